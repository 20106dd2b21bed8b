# SPDX-License-Identifier: Apache-2.0
"""Helpers for bench/run: tools and paths, the emulator and httpd processes,
wrk, the measurements and the report."""
