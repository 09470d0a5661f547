// A small N-API addon in plain C: a checksum computed natively, the architecture and byte order the
// compiler targeted (so a run can show that each host loaded a build made for it), and a sum that
// reads a Float64Array's memory as this CPU's doubles (so a run can show that a typed array arrived
// in its host's byte order: on a big-endian host, bytes left in little-endian order sum to nonsense).
#include <node_api.h>
#include <stdint.h>

#if defined(__x86_64__)
#define COMPILED_FOR "x64"
#elif defined(__aarch64__)
#define COMPILED_FOR "arm64"
#elif defined(__arm__)
#define COMPILED_FOR "arm"
#elif defined(__s390x__)
#define COMPILED_FOR "s390x"
#elif defined(__riscv) && __riscv_xlen == 64
#define COMPILED_FOR "riscv64"
#else
#define COMPILED_FOR "unknown"
#endif

// What os.endianness() says on a host this build can run on.
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define BYTE_ORDER_NAME "BE"
#else
#define BYTE_ORDER_NAME "LE"
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

// byteOrder(): "LE" | "BE"
static napi_value ByteOrder(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  CHECK(napi_create_string_utf8(env, BYTE_ORDER_NAME, NAPI_AUTO_LENGTH, &result));
  return result;
}

// sumFloat64(values: Float64Array): number, added in index order (as a JavaScript loop would)
static napi_value SumFloat64(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  bool is_typed_array = false;
  napi_typedarray_type type = napi_uint8_array;
  size_t length = 0;
  void* data = NULL;
  if (argc >= 1 && napi_is_typedarray(env, argv[0], &is_typed_array) == napi_ok && is_typed_array) {
    CHECK(napi_get_typedarray_info(env, argv[0], &type, &length, &data, NULL, NULL));
  }
  if (!is_typed_array || type != napi_float64_array) {
    napi_throw_type_error(env, NULL, "sumFloat64: expected a Float64Array");
    return NULL;
  }
  const double* values = (const double*)data;
  double sum = 0;
  for (size_t i = 0; i < length; i++) sum += values[i];
  napi_value result;
  CHECK(napi_create_double(env, sum, &result));
  return result;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor properties[] = {
      {"fnv1a", NULL, Fnv1a, NULL, NULL, NULL, napi_enumerable, NULL},
      {"compiledFor", NULL, CompiledFor, NULL, NULL, NULL, napi_enumerable, NULL},
      {"byteOrder", NULL, ByteOrder, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sumFloat64", NULL, SumFloat64, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties) != napi_ok) return NULL;
  return exports;
}
