// Starts V8's incremental marking of the old generation on the calling thread's heap, which Node
// offers no way to do: its `gc()` is a full collection that stops the thread until it is done (tens
// of ms on the capture's heap), where this marks in small steps and on V8's helper threads and
// pauses only to finish (3.5-9.4 ms on the lab day). Two ways in, both V8's own public API (not
// Node-API: built at install against the Node that runs it):
//
// startMemoryReducingMarking(): what V8 does when an embedder reports moderate memory pressure. The
// collection is one that reduces memory: it compacts the old generation's pages and gives back what
// it can. For garbage that built up slowly (src/util/old-generation-pacer.ts). The level is set
// back to none at once: V8 acts on a report when it arrives, and a level left standing would make
// it size its heap for low memory meanwhile.
//
// startExternalMemoryMarking(): what V8 does when memory held outside its heap (ArrayBuffers: a
// captured body) has grown 64 MiB past its level at the last full collection: an ordinary
// collection, which frees the ArrayBuffers nothing refers to and compacts only what is fragmented.
// For a large body just let go of (src/util/collect-garbage.ts). V8 is told of 64 MiB more, which
// crosses that limit, and at once of 64 MiB less: the count is left as it was. The memory-reducing
// one cost the proxy 0.5-1 ms more CPU per uploaded MB (helper threads 3-4x busier), freeing the
// same bodies. Where marking is already under way, V8 advances it a little instead (its own rule).

#include <node.h>
#include <v8.h>

static void StartMemoryReducingMarking(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  isolate->MemoryPressureNotification(v8::MemoryPressureLevel::kModerate);
  isolate->MemoryPressureNotification(v8::MemoryPressureLevel::kNone);
}

// V8's soft limit on external memory above its level at the last full collection (64 MiB since
// V8 6; the hard limit, which forces a full collection at once, is half the old generation's).
static const int64_t kPastExternalSoftLimit = int64_t(64) * 1024 * 1024 + 1;

static void StartExternalMemoryMarking(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  isolate->AdjustAmountOfExternalAllocatedMemory(kPastExternalSoftLimit);
  isolate->AdjustAmountOfExternalAllocatedMemory(-kPastExternalSoftLimit);
}

// Context-aware: worker threads and the proxy loops may load it too.
NODE_MODULE_INIT() {
  NODE_SET_METHOD(exports, "startMemoryReducingMarking", StartMemoryReducingMarking);
  NODE_SET_METHOD(exports, "startExternalMemoryMarking", StartExternalMemoryMarking);
}
