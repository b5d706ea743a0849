// Looks at the first bytes a device sent without taking them off its socket: recv(MSG_PEEK), and a
// libuv poll handle that says when more have come (SO_RCVLOWAT keeps it quiet until then). Node
// can only read a socket, and a ClientHello read in JavaScript must be handed back to the TLS
// stack, which then sizes its input buffers after that one small chunk for the whole connection:
// it reads a device's uploads 1 and 16 KB at a time instead of 64 (four times the reads, a third more
// CPU per uploaded MB, measured on the bench's pipe relay). Bytes left in the kernel are read by
// the TLS stack itself. Linux only; while a socket is watched here its Node handle must not read.

#include <node_api.h>
#include <uv.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context async;
  int fd;
  int closed;         // uv_close called
  int handle_closed;  // libuv is done with the handle
  int finalized;      // JavaScript is done with the watch
} Watch;

// Freed by whichever of libuv and the garbage collector lets go of it last.

static napi_value throw_errno(napi_env env, const char *what) {
  char message[160];
  snprintf(message, sizeof message, "%s: %s", what, strerror(errno));
  napi_throw_error(env, "ERR_SOCKET_PEEK", message);
  return NULL;
}

static int int_arg(napi_env env, napi_value value, int32_t *out) {
  return napi_get_value_int32(env, value, out) == napi_ok;
}

// The (watch, count) both peek and setLowWater take; NULL (a TypeError thrown) unless count > 0.
static Watch *watch_and_count(napi_env env, napi_callback_info info, int32_t *count, const char *usage) {
  size_t argc = 2;
  napi_value argv[2];
  void *data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc >= 2 && napi_get_value_external(env, argv[0], &data) == napi_ok && data && int_arg(env, argv[1], count) && *count > 0) {
    Watch *watch = (Watch *)data;
    if (!watch->closed) return watch;
  }
  napi_throw_type_error(env, NULL, usage);
  return NULL;
}

// peek(watch, max): Buffer of the bytes waiting (at most max; empty at end of stream), or null when
// none are waiting yet. Reads through the watch's own descriptor: Node's may already be closed,
// and its number given to another socket.
static napi_value peek(napi_env env, napi_callback_info info) {
  int32_t max = 0;
  Watch *watch = watch_and_count(env, info, &max, "peek(watch, max) takes a live watch and a positive length");
  if (!watch) return NULL;
  void *data = malloc((size_t)max);
  if (!data) return throw_errno(env, "peek");
  ssize_t n;
  do n = recv(watch->fd, data, (size_t)max, MSG_PEEK | MSG_DONTWAIT); while (n < 0 && errno == EINTR);
  napi_value result;
  if (n < 0) {
    int error = errno;
    free(data);
    if (error == EAGAIN || error == EWOULDBLOCK) {
      napi_get_null(env, &result);
      return result;
    }
    errno = error;
    return throw_errno(env, "recv(MSG_PEEK)");
  }
  void *copy;
  napi_status status = napi_create_buffer_copy(env, (size_t)n, data, &copy, &result);
  free(data);
  if (status != napi_ok) return throw_errno(env, "peek");
  return result;
}

// setLowWater(watch, bytes): readiness is reported only once that many bytes wait (or the stream
// ends). The setting belongs to the socket: set it back to 1 before unwatch.
static napi_value set_low_water(napi_env env, napi_callback_info info) {
  int32_t bytes = 1;
  Watch *watch = watch_and_count(env, info, &bytes, "setLowWater(watch, bytes) takes a live watch and a positive count");
  if (!watch) return NULL;
  int value = bytes;
  if (setsockopt(watch->fd, SOL_SOCKET, SO_RCVLOWAT, &value, sizeof value) != 0) return throw_errno(env, "setsockopt(SO_RCVLOWAT)");
  return NULL;
}

static void on_closed(uv_handle_t *handle) {
  Watch *watch = (Watch *)handle->data;
  watch->handle_closed = 1;
  close(watch->fd);
  if (watch->finalized) free(watch);
}

// Called where the JavaScript environment is alive (unwatch, the finalizer): its references are let
// go of here, not in on_closed, which may run while a stopping thread tears its environment down.
static void close_watch(Watch *watch) {
  if (watch->closed) return;
  watch->closed = 1;
  uv_poll_stop(&watch->poll);
  napi_delete_reference(watch->env, watch->callback);
  napi_async_destroy(watch->env, watch->async);
  uv_close((uv_handle_t *)&watch->poll, on_closed);
}

static void on_poll(uv_poll_t *poll, int status, int events) {
  Watch *watch = (Watch *)poll->data;
  if (watch->closed) return;
  napi_env env = watch->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value callback, resource, argument, ignored;
  napi_get_reference_value(env, watch->callback, &callback);
  napi_get_global(env, &resource);
  napi_create_int32(env, status < 0 ? status : events, &argument);
  // make_callback: the tick queue and microtasks run afterwards, as after any I/O callback.
  napi_make_callback(env, watch->async, resource, callback, 1, &argument, &ignored);
  // A throw goes where one from any I/O callback goes: the process's uncaughtException.
  bool pending = false;
  napi_value error;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending && napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
  napi_close_handle_scope(env, scope);
}

static void finalize_watch(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Watch *watch = (Watch *)data;
  watch->finalized = 1;
  if (watch->handle_closed) free(watch);
  else close_watch(watch);
}

// watch(fd, callback): calls callback(events) whenever the socket is readable (or callback(-errno)
// on an error), until unwatch. Returns the watch, to pass to unwatch, which must come: the watch
// holds the socket open (its own descriptor) even after Node closed its handle.
static napi_value watch(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd = -1;
  napi_valuetype type = napi_undefined;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || !int_arg(env, argv[0], &fd) || napi_typeof(env, argv[1], &type) != napi_ok || type != napi_function) {
    napi_throw_type_error(env, NULL, "watch(fd, callback) takes a descriptor and a function");
    return NULL;
  }
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return throw_errno(env, "watch");
  Watch *watch = calloc(1, sizeof *watch);
  if (!watch) return throw_errno(env, "watch");
  // A descriptor of our own for the same socket: libuv keeps one watcher per descriptor, and Node's
  // may close its own at any time (a destroyed socket) while this one is still registered.
  watch->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (watch->fd < 0) {
    free(watch);
    return throw_errno(env, "dup");
  }
  int rc = uv_poll_init_socket(loop, &watch->poll, watch->fd);
  if (rc != 0) {
    close(watch->fd);
    free(watch);
    errno = -rc;
    return throw_errno(env, "uv_poll_init_socket");
  }
  watch->env = env;
  watch->poll.data = watch;
  napi_value name;
  napi_create_string_utf8(env, "phonehome:socket-peek", NAPI_AUTO_LENGTH, &name);
  napi_create_reference(env, argv[1], 1, &watch->callback);
  napi_async_init(env, NULL, name, &watch->async);
  // The socket's own handle keeps the loop alive; this one must not keep a stopping proxy waiting.
  uv_unref((uv_handle_t *)&watch->poll);
  rc = uv_poll_start(&watch->poll, UV_READABLE | UV_DISCONNECT, on_poll);
  if (rc != 0) {
    watch->finalized = 1;  // no JavaScript object will hold it
    close_watch(watch);
    errno = -rc;
    return throw_errno(env, "uv_poll_start");
  }
  napi_value handle;
  napi_create_external(env, watch, finalize_watch, NULL, &handle);
  return handle;
}

// unwatch(watch): stops it and lets go of its descriptor. Twice is harmless.
static napi_value unwatch(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void *data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_external(env, argv[0], &data) != napi_ok || !data) {
    napi_throw_type_error(env, NULL, "unwatch(watch) takes what watch returned");
    return NULL;
  }
  close_watch((Watch *)data);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "peek", NAPI_AUTO_LENGTH, peek, NULL, &fn);
  napi_set_named_property(env, exports, "peek", fn);
  napi_create_function(env, "setLowWater", NAPI_AUTO_LENGTH, set_low_water, NULL, &fn);
  napi_set_named_property(env, exports, "setLowWater", fn);
  napi_create_function(env, "watch", NAPI_AUTO_LENGTH, watch, NULL, &fn);
  napi_set_named_property(env, exports, "watch", fn);
  napi_create_function(env, "unwatch", NAPI_AUTO_LENGTH, unwatch, NULL, &fn);
  napi_set_named_property(env, exports, "unwatch", fn);
  return exports;
}
