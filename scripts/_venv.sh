# Sourced by the other scripts: make .venv on first use and install the project into it again
# whenever pyproject.toml changes. Needs only python3 (3.11 or newer) with venv.
venv_dir=".venv"
stamp="$venv_dir/.installed-$(sha256sum pyproject.toml | cut -c1-16)-$1"
if [[ ! -f $stamp ]]; then
  python3 -m venv "$venv_dir"
  "$venv_dir/bin/python" -m pip install --quiet --upgrade pip
  "$venv_dir/bin/python" -m pip install --quiet -e ".[$1]"
  rm -f "$venv_dir"/.installed-*
  touch "$stamp"
fi
