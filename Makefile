# Two commands: `make run` and `make test`. Everything else is set up by them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export QT_QPA_PLATFORM ?= offscreen

.PHONY: run test lint bench screenshots clean qt-system-libs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.run-installed

# Qt's X11 plugin needs a few xcb libraries that minimal Debian/Ubuntu systems lack;
# install the missing ones when we can (root + apt), otherwise say which are missing.
QT_XCB_PACKAGES := libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 \
                   libxcb-randr0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0 libegl1 \
                   libgl1 libfontconfig1 libdbus-1-3
qt-system-libs: $(VENV)/.run-installed
	@missing=$$(ldd $$($(BIN)/python -c "import PySide6, pathlib; print(pathlib.Path(PySide6.__file__).parent / 'Qt/plugins/platforms/libqxcb.so')") 2>/dev/null | grep -c "not found"); \
	if [ "$$missing" != "0" ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    echo "Installing the X11 libraries Qt needs: $(QT_XCB_PACKAGES)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(QT_XCB_PACKAGES) >/dev/null; \
	  else \
	    echo "Qt's X11 plugin is missing $$missing libraries; install: $(QT_XCB_PACKAGES)"; \
	  fi; \
	fi

run: export QT_QPA_PLATFORM :=
run: qt-system-libs
	$(BIN)/myoscore start

lint: $(VENV)/.test-installed
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy --cache-dir /dev/null

test: lint
	$(BIN)/python -m pytest -p no:cacheprovider

bench: $(VENV)/.test-installed
	$(BIN)/python benchmarks/run_all.py

screenshots: $(VENV)/.test-installed
	$(BIN)/python docs/make_screenshots.py

clean:
	rm -rf $(VENV) build dist
