// Starts V8's incremental marking of the old generation on the calling thread's heap, which Node
// offers no way to do: its `gc()` is a full collection that stops the thread until it is done (tens
// of ms on the capture's heap), where this marks in small steps and on V8's helper threads and
// pauses only to finish (3.5-9.4 ms on the lab day). It is what V8 does itself when an embedder
// reports moderate memory pressure, so that is the call. The level is set back to none at once: V8
// acts on a report when it arrives, and a level left standing would make it size its heap for low
// memory meanwhile. Uses V8's own API, not Node-API: built at install against the Node that runs it.

#include <node.h>
#include <v8.h>

// startIncrementalMarking(): undefined. Nothing happens when marking is already under way.
static void StartIncrementalMarking(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  isolate->MemoryPressureNotification(v8::MemoryPressureLevel::kModerate);
  isolate->MemoryPressureNotification(v8::MemoryPressureLevel::kNone);
}

// Context-aware: worker threads and the proxy loops may load it too.
NODE_MODULE_INIT() {
  NODE_SET_METHOD(exports, "startIncrementalMarking", StartIncrementalMarking);
}
