//! Examples live under `hello/` and `echo/`; this library is empty.
