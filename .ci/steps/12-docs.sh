#!/usr/bin/env bash
# Documentation that compiles: every ```c snippet of README.md and docs/*.md,
# taken from the Markdown files themselves (scripts/check-snippets: file or
# fragment, with the declarations each marker comment gives), compiled with
# -Wall -Wextra -Werror against the public headers, by gcc and, when
# installed, clang.
set -euo pipefail
scripts/check-snippets --cc gcc
if command -v clang >/dev/null; then
	scripts/check-snippets --cc clang | tail -n1
fi
