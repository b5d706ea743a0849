{
  "targets": [
    {
      "target_name": "incremental_gc",
      "sources": ["incremental_gc.cc"]
    }
  ]
}
