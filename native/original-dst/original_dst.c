// The address a connection was going to before the kernel redirected it to us (iptables/nftables
// REDIRECT or DNAT): getsockopt(SO_ORIGINAL_DST) for IPv4, IP6T_SO_ORIGINAL_DST for IPv6. Node
// has no way to ask this, hence these few lines of C. Linux only.

#include <node_api.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

// From <linux/netfilter_ipv4.h> and <linux/netfilter_ipv6/ip6_tables.h>, which clash with
// <netinet/in.h> when included together. Both are 80.
#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80
#endif
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif

static napi_value fail(napi_env env, const char *what) {
  char message[160];
  snprintf(message, sizeof message, "%s: %s", what, strerror(errno));
  napi_throw_error(env, "ERR_ORIGINAL_DST", message);
  return NULL;
}

// originalDestination(fd: number, family: 4 | 6): { address: string, port: number }
static napi_value original_destination(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd = -1, family = 4;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int32(env, argv[1], &family) != napi_ok) {
    napi_throw_type_error(env, NULL, "originalDestination(fd, family) takes two numbers");
    return NULL;
  }
  struct sockaddr_storage address;
  socklen_t length = sizeof address;
  memset(&address, 0, sizeof address);
  int rc = family == 6
    ? getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &address, &length)
    : getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &address, &length);
  if (rc != 0) return fail(env, family == 6 ? "getsockopt(IP6T_SO_ORIGINAL_DST)" : "getsockopt(SO_ORIGINAL_DST)");
  char text[INET6_ADDRSTRLEN] = { 0 };
  int port = 0;
  if (address.ss_family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *)&address;
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    port = ntohs(in->sin_port);
  } else if (address.ss_family == AF_INET6) {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&address;
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    port = ntohs(in6->sin6_port);
  } else {
    errno = EAFNOSUPPORT;
    return fail(env, "original destination");
  }
  napi_value result, host, number;
  napi_create_object(env, &result);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &host);
  napi_create_int32(env, port, &number);
  napi_set_named_property(env, result, "address", host);
  napi_set_named_property(env, result, "port", number);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "originalDestination", NAPI_AUTO_LENGTH, original_destination, NULL, &fn);
  napi_set_named_property(env, exports, "originalDestination", fn);
  return exports;
}
