"""text.stats: a container job written in Python, with the standard library only.

The platform's contract for any container job (docs/container-jobs.md):
  - the payload is the JSON file $JOBPLANE_PAYLOAD_FILE (/var/run/jobplane/payload.json);
  - the result is a JSON object of at most 4096 bytes written to $JOBPLANE_RESULT_FILE
    (/dev/termination-log) before exiting 0;
  - exit 3 (declared non-retryable in the catalog) when the payload cannot be processed;
    any other non-zero exit is retried while attempts remain.
"""

import json
import os
import re
import sys
from collections import Counter

PAYLOAD_FILE = os.environ.get("JOBPLANE_PAYLOAD_FILE", "/var/run/jobplane/payload.json")
RESULT_FILE = os.environ.get("JOBPLANE_RESULT_FILE", "/dev/termination-log")
MAX_RESULT_BYTES = 4096
EXIT_BAD_INPUT = 3

WORD = re.compile(r"[a-z0-9']+")


def stats(payload):
    """The result for a payload {"text": str, "top": int}; raises ValueError on bad input."""
    text = payload.get("text")
    if not isinstance(text, str):
        raise ValueError("'text' must be a string")
    top = payload.get("top", 5)
    if not isinstance(top, int) or isinstance(top, bool) or not 1 <= top <= 20:
        raise ValueError("'top' must be an integer from 1 to 20")
    words = WORD.findall(text.lower())
    common = Counter(words).most_common(top)
    return {
        "characters": len(text),
        "words": len(words),
        "distinct": len(set(words)),
        "top": [{"word": w[:40], "count": c} for w, c in common],
    }


def write_result(result, path=RESULT_FILE):
    data = json.dumps(result, separators=(",", ":"), sort_keys=True)
    if len(data.encode("utf-8")) > MAX_RESULT_BYTES:
        raise ValueError(f"the result is over {MAX_RESULT_BYTES} bytes")
    with open(path, "w", encoding="utf-8") as f:
        f.write(data)


def main():
    job = os.environ.get("JOBPLANE_JOB_ID", "?")
    attempt = os.environ.get("JOBPLANE_ATTEMPT", "?")
    try:
        with open(PAYLOAD_FILE, encoding="utf-8") as f:
            payload = json.load(f)
        if not isinstance(payload, dict):
            raise ValueError("the payload must be a JSON object")
        result = stats(payload)
    except (ValueError, json.JSONDecodeError) as err:
        # Written to the termination log too: it becomes the failure message of the attempt.
        message = f"bad payload: {err}"
        print(message, file=sys.stderr)
        try:
            with open(RESULT_FILE, "w", encoding="utf-8") as f:
                f.write(message[:MAX_RESULT_BYTES])
        except OSError:
            pass
        return EXIT_BAD_INPUT
    write_result(result)
    print(f"job {job} attempt {attempt}: {result['words']} words", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
