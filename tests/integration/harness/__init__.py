# SPDX-License-Identifier: Apache-2.0
"""Integration test harness for mod_auth_workos, in the spirit of httpd's
test/pyhttpd: generate an httpd configuration, run a real Debian apache2 on
loopback, drive it over HTTP, and read its logs afterwards.

  httpd.py     one apache2 instance: config, start/stop, configtest, logs
  emulator.py  the AuthKit emulator process and a client for /__emulator/*
  backend.py   a loopback HTTP server that echoes request headers (mod_proxy)
  cookies.py   session cookies: sealtool, the Node SDK, and the secrets list
"""
