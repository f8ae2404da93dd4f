# Sourced by the other scripts: make .venv on first use and install the project into it again
# whenever pyproject.toml changes. Needs only python3 (3.11 or newer) with venv.
# `source scripts/_venv.sh` installs what serving needs; `source scripts/_venv.sh dev` adds the
# test tools. A dev install serves too, so serving after testing installs nothing.
venv_dir=".venv"
version=$(sha256sum pyproject.toml | cut -c1-16)
wanted="$venv_dir/.installed-$version-${1:-serve}"
if [[ ! -f $wanted && ! -f "$venv_dir/.installed-$version-dev" ]]; then
  python3 -m venv "$venv_dir"
  "$venv_dir/bin/python" -m pip install --quiet --upgrade pip
  "$venv_dir/bin/python" -m pip install --quiet -e ".${1:+[$1]}"
  rm -f "$venv_dir"/.installed-*
  touch "$wanted"
fi
