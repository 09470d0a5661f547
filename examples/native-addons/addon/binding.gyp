{
  "targets": [
    {
      "target_name": "checksum",
      "sources": ["checksum.c"],
      # N-API 8 is in every Node.js from 16.19 on: one build serves Node 18, 20 and 22 hosts.
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
