#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The module exports exactly C_GetFunctionList, C_GetInterfaceList and C_GetInterface.
set -eu
mod="$1"
got=$(nm -D --defined-only "$mod" | awk '{print $NF}' | sort | tr '\n' ' ')
want="C_GetFunctionList C_GetInterface C_GetInterfaceList "
if [ "$got" != "$want" ]; then
	echo "exports: got '$got', want '$want'" >&2
	exit 1
fi
echo "exports ok: $got"
