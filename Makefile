# Multikanal. `make run` starts the daemon on its embedded default;
# `make test` installs what the tests need (as root, on Debian) and runs them.

GO       ?= go
PREFIX   ?= /usr/local
DESTDIR  ?=
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
BIN      := bin/multikanal
DATA     ?= var

.PHONY: all build run test test-loaded test-deps vet bench bench-full crash test-cluster fuzz install clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/multikanal

run: build
	./$(BIN) serve --data $(DATA)

# Debian packages the tests use as real peers: OpenSSH's sftp client and
# sshd, Saxon for the official EN 16931 XSLT, poppler and qpdf for PDF checks,
# zbar to scan the Swish QR code back, xmllint (libxml2-utils) for the Finvoice
# schema, PostgreSQL for the store on several nodes (the tests run their own
# server from /usr/lib/postgresql/<version>/bin). Only
# root can install them; otherwise the tests that need them skip and say so.
TEST_PACKAGES := openssh-client openssh-server libsaxonhe-java poppler-utils qpdf zbar-tools chromium libxml2-utils postgresql

test-deps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		missing=$$(for p in $(TEST_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
		if [ -n "$$missing" ]; then \
			echo "installing test peers: $$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		fi; \
	else \
		echo "not root: skipping package installs; tests whose peers are missing will skip"; \
	fi

test: test-deps vet
	$(GO) test -count=1 -timeout 15m ./...

# vet also checks that go.mod and go.sum say exactly what the code uses.
vet:
	$(GO) vet ./...
	$(GO) mod tidy -diff

# The suite beside a CPU hog on every core, as on a busy CI machine: no
# functional test may depend on timing (docs/performance.md).
test-loaded: test-deps
	@hogs=""; for i in $$(seq $$(nproc)); do yes >/dev/null & hogs="$$hogs $$!"; done; \
	trap "kill $$hogs" EXIT; \
	echo "CPU hogs running: $$hogs"; \
	$(GO) test -count=1 -timeout 30m ./...

# Go benchmarks, then the end-to-end load generator at a quick size (the
# real daemon on its spool transports, a CSV batch, a UBL ZIP, single-drop
# latency, and the SFTP comparison with OpenSSH). bench-full runs the
# issue's sizes: 100,000 invoices, a 1 GiB file and 1,000 small files.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) run ./cmd/multikanal-bench -n 10000 -zip 1000 -latency 100 -sftp-size 64MiB -sftp-files 200 -json bench.json

bench-full:
	$(GO) run ./cmd/multikanal-bench -json bench-full.json

# The crash harness at full size: 2,000 invoices, 20 SIGKILLs at random
# moments (make test runs it at 400 and 8).
crash:
	MULTIKANAL_CRASH_INVOICES=2000 MULTIKANAL_CRASH_KILLS=20 $(GO) test -run TestCrashHarness -count=1 -timeout 30m -v ./cmd/multikanal/

# Three nodes on one PostgreSQL at full size: 5,000 invoices, 12 SIGKILLs
# and restarts of random nodes (make test runs 600 invoices and one kill).
test-cluster: test-deps
	MULTIKANAL_CLUSTER_INVOICES=5000 MULTIKANAL_CLUSTER_KILLS=12 $(GO) test -run TestClusterSurvivesSIGKILL -count=1 -timeout 30m -v ./cmd/multikanal/

# Each fuzz target for FUZZTIME (default 10m). Corpus lands in testdata/fuzz.
FUZZTIME ?= 10m
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

# install puts the daemon and its systemd files in place under
# $(DESTDIR)$(PREFIX) (binary, units, sysusers.d, tmpfiles.d, docs) and
# $(DESTDIR)/etc/multikanal (the example configuration). The units name the
# binary by its installed path, so they are rewritten for PREFIX. Then, as
# root: systemd-sysusers; systemd-tmpfiles --create; systemctl daemon-reload
# (docs/operations.md).
UNITDIR ?= $(PREFIX)/lib/systemd/system
install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/multikanal
	for u in multikanal.service multikanal-sftp.socket; do \
		sed -e 's|/usr/local/bin/multikanal|$(PREFIX)/bin/multikanal|g' \
		    -e 's|/usr/local/share/doc/multikanal|$(PREFIX)/share/doc/multikanal|g' systemd/$$u > $(BIN).$$u && \
		install -D -m 0644 $(BIN).$$u $(DESTDIR)$(UNITDIR)/$$u && rm -f $(BIN).$$u || exit 1; \
	done
	install -D -m 0644 systemd/multikanal.sysusers $(DESTDIR)$(PREFIX)/lib/sysusers.d/multikanal.conf
	install -D -m 0644 systemd/multikanal.tmpfiles $(DESTDIR)$(PREFIX)/lib/tmpfiles.d/multikanal.conf
	install -D -m 0644 docs/operations.md $(DESTDIR)$(PREFIX)/share/doc/multikanal/operations.md
	install -D -m 0640 systemd/multikanal.toml.example $(DESTDIR)/etc/multikanal/multikanal.toml.example

clean:
	rm -rf bin
