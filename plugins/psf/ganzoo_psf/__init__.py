def __getattr__(n): raise ImportError("not yet")
