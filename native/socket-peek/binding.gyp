{
  "targets": [
    {
      "target_name": "socket_peek",
      "sources": ["socket_peek.c"],
      "conditions": [["OS!='linux'", { "sources!": ["socket_peek.c"] }]]
    }
  ]
}
