#!/usr/bin/env bash
echo "make demo: not available yet — it lands with the runtime/delivery issues." >&2
exit 1
