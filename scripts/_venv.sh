# Sourced by the other scripts: make .venv on first use and install the project into it again
# whenever pyproject.toml or a lock file changes. Needs only python3 (3.11 or newer) with venv.
# `source scripts/_venv.sh` installs what serving needs (requirements.lock); `source
# scripts/_venv.sh dev` adds the test tools (requirements-dev.lock). A dev install serves too,
# so serving after testing installs nothing.
venv_dir=".venv"
version=$(cat pyproject.toml requirements.lock requirements-dev.lock | sha256sum | cut -c1-16)
wanted="$venv_dir/.installed-$version-${1:-serve}"
if [[ ! -f $wanted && ! -f "$venv_dir/.installed-$version-dev" ]]; then
  python3 -m venv "$venv_dir"
  "$venv_dir/bin/python" -m pip install --quiet --upgrade pip
  if [[ ${1:-} == dev ]]; then
    "$venv_dir/bin/python" -m pip install --quiet -r requirements-dev.lock -e ".[dev]"
  else
    "$venv_dir/bin/python" -m pip install --quiet -r requirements.lock -e .
  fi
  rm -f "$venv_dir"/.installed-*
  touch "$wanted"
fi
