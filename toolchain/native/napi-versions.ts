// The N-API version that introduced each Node-API function added after version 1, as guarded by
// `#if NAPI_VERSION >= N` in Node.js 20's js_native_api.h and node_api.h (a test re-derives this
// table from the installed headers). An addon needs the highest version among the functions it
// imports: that, not the NAPI_VERSION it was compiled with, decides which Node.js can load it.

const INTRODUCED_IN: Readonly<Record<string, number>> = {
  napi_get_uv_event_loop: 2,
  napi_fatal_exception: 3,
  napi_add_env_cleanup_hook: 3,
  napi_remove_env_cleanup_hook: 3,
  napi_open_callback_scope: 3,
  napi_close_callback_scope: 3,
  napi_create_threadsafe_function: 4,
  napi_get_threadsafe_function_context: 4,
  napi_call_threadsafe_function: 4,
  napi_acquire_threadsafe_function: 4,
  napi_release_threadsafe_function: 4,
  napi_unref_threadsafe_function: 4,
  napi_ref_threadsafe_function: 4,
  napi_create_date: 5,
  napi_is_date: 5,
  napi_get_date_value: 5,
  napi_add_finalizer: 5,
  napi_create_bigint_int64: 6,
  napi_create_bigint_uint64: 6,
  napi_create_bigint_words: 6,
  napi_get_value_bigint_int64: 6,
  napi_get_value_bigint_uint64: 6,
  napi_get_value_bigint_words: 6,
  napi_get_all_property_names: 6,
  napi_set_instance_data: 6,
  napi_get_instance_data: 6,
  napi_detach_arraybuffer: 7,
  napi_is_detached_arraybuffer: 7,
  napi_type_tag_object: 8,
  napi_check_object_type_tag: 8,
  napi_object_freeze: 8,
  napi_object_seal: 8,
  napi_add_async_cleanup_hook: 8,
  napi_remove_async_cleanup_hook: 8,
  node_api_symbol_for: 9,
  node_api_create_syntax_error: 9,
  node_api_throw_syntax_error: 9,
  node_api_get_module_file_name: 9,
};

/**
 * Functions still experimental in Node.js 20 (behind NAPI_EXPERIMENTAL). The string and property-key
 * ones became N-API 10; an addon importing any of them does not load on Node.js 20 without the flag.
 */
export const EXPERIMENTAL_IN_NODE_20: readonly string[] = [
  "node_api_create_external_string_latin1",
  "node_api_create_external_string_utf16",
  "node_api_create_property_key_latin1",
  "node_api_create_property_key_utf8",
  "node_api_create_property_key_utf16",
  "node_api_post_finalizer",
];

/** What counts as "newer than Node.js 20's headers know". */
export const NEWER_THAN_KNOWN = 10;

export function isNapiSymbol(name: string): boolean {
  return name.startsWith("napi_") || name.startsWith("node_api_");
}

/**
 * The N-API version a function needs. Every `napi_*` function not in the table is from version 1
 * (all functions added since version 9 are `node_api_*`); an unknown `node_api_*` one is newer than
 * Node.js 20.
 */
export function napiVersionOf(name: string): number {
  const known = INTRODUCED_IN[name];
  if (known !== undefined) return known;
  if (name.startsWith("node_api_")) return NEWER_THAN_KNOWN;
  return 1;
}

/** The table itself, for the test that checks it against the installed headers. */
export function napiVersionTable(): Readonly<Record<string, number>> {
  return INTRODUCED_IN;
}
