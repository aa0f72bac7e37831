"""The gateway: routes by path prefix to services, in-process or over HTTP."""
