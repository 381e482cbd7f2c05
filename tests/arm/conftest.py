"""tests/arm holds the helpers of `make test-arm` (scripts/test_arm.sh): they run under emulation or
around it, never in the x86 test suite, so nothing here is collected."""

collect_ignore_glob = ["*"]
