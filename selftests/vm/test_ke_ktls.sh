#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# xntsd's NTS-KE server with kernel TLS active (the guest has the tls
# module, the host does not); ke_ktls.py prints KTAP.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
exec /usr/bin/python3 "$top/selftests/vm/ke_ktls.py"
