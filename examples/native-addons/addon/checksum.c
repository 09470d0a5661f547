// A small N-API addon in plain C: a checksum computed natively, and the architecture the compiler
// targeted, so a run can show that each host loaded a build made for it.
#include <node_api.h>
#include <stdint.h>

#if defined(__x86_64__)
#define COMPILED_FOR "x64"
#elif defined(__aarch64__)
#define COMPILED_FOR "arm64"
#elif defined(__arm__)
#define COMPILED_FOR "arm"
#elif defined(__riscv) && __riscv_xlen == 64
#define COMPILED_FOR "riscv64"
#else
#define COMPILED_FOR "unknown"
#endif

#define CHECK(call)                                   \
  do {                                                \
    if ((call) != napi_ok) return NULL;               \
  } while (0)

// fnv1a(data: Uint8Array): number
static napi_value Fnv1a(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  bool is_typed_array = false;
  if (argc < 1 || napi_is_typedarray(env, argv[0], &is_typed_array) != napi_ok || !is_typed_array) {
    napi_throw_type_error(env, NULL, "fnv1a: expected a Uint8Array");
    return NULL;
  }
  napi_typedarray_type type;
  size_t length;
  void* data;
  CHECK(napi_get_typedarray_info(env, argv[0], &type, &length, &data, NULL, NULL));
  if (type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "fnv1a: expected a Uint8Array");
    return NULL;
  }
  uint32_t hash = 2166136261u;
  const uint8_t* bytes = (const uint8_t*)data;
  for (size_t i = 0; i < length; i++) {
    hash ^= bytes[i];
    hash *= 16777619u;
  }
  napi_value result;
  CHECK(napi_create_uint32(env, hash, &result));
  return result;
}

// compiledFor(): string
static napi_value CompiledFor(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  CHECK(napi_create_string_utf8(env, COMPILED_FOR, NAPI_AUTO_LENGTH, &result));
  return result;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor properties[] = {
      {"fnv1a", NULL, Fnv1a, NULL, NULL, NULL, napi_enumerable, NULL},
      {"compiledFor", NULL, CompiledFor, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties) != napi_ok) return NULL;
  return exports;
}
