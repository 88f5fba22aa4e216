#!/usr/bin/env bash
echo "make dev: not available yet — it lands with the runtime/delivery issues." >&2
exit 1
