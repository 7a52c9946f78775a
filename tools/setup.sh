#!/usr/bin/env bash
# Installs what `make test` and `make demo` need and is missing: Debian packages
# and a Python venv (.venv/) with TensorFlow, Keras 3 and tf-keras for the
# fixture generators and the interop suite. Safe to run again: it only adds.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_cmd=""
[ "$(id -u)" != 0 ] && sudo_cmd="sudo"

apt_need=()
for pkg in libhdf5-dev libopenblas-dev ffmpeg chromium pkg-config python3 python3-venv; do
  dpkg -s "$pkg" >/dev/null 2>&1 || apt_need+=("$pkg")
done
# A python3 that already makes venvs (pyenv, say) makes python3-venv unneeded.
if command -v python3 >/dev/null && python3 -c 'import venv, ensurepip' 2>/dev/null; then
  apt_need=("${apt_need[@]/python3-venv}"); apt_need=("${apt_need[@]/python3}")
fi
apt_list=()
for pkg in "${apt_need[@]}"; do [ -n "$pkg" ] && apt_list+=("$pkg"); done
if [ ${#apt_list[@]} -gt 0 ]; then
  echo "setup: installing ${apt_list[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${apt_list[@]}"
fi

if [ "${1:-}" = "--no-venv" ]; then exit 0; fi
stamp=.venv/.requirements
if [ ! -f "$stamp" ] || ! cmp -s tools/requirements.txt "$stamp"; then
  echo "setup: creating .venv from tools/requirements.txt"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r tools/requirements.txt
  cp tools/requirements.txt "$stamp"
fi
# keras_delta (tools/keras_delta), editable, once per checkout: reinstalled only
# when the venv's keras_delta is missing or comes from another checkout.
kd_dir="$PWD/tools/keras_delta"
if ! .venv/bin/python - "$kd_dir" 2>/dev/null <<'PY'
import importlib.util, pathlib, sys
spec = importlib.util.find_spec("keras_delta")
here = pathlib.Path(sys.argv[1]).resolve()
sys.exit(0 if spec and spec.origin and here in pathlib.Path(spec.origin).resolve().parents else 1)
PY
then
  echo "setup: installing tools/keras_delta into .venv (pip install -e)"
  .venv/bin/pip install -q --disable-pip-version-check --no-build-isolation -e tools/keras_delta
fi
