# CareNet: the two commands a new machine needs are `make run` and `make test`.
# Everything they need is installed by `make setup` (Python packages, compiled to bytecode once:
# a service start imports some 1,400 modules, 6 s from source, 2.5 s compiled; the Kafka jars; and
# Debian's PostgreSQL, JDK, Chromium and openssl when missing; apt-get runs through sudo unless you are
# root). Chromium renders the auditor's HTML timeline in its test. The deployment tests' tools —
# kustomize and a Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager, kubectl:
# one binary) built with Go from the Go module proxy, Strimzi's CRDs generated from its Maven
# artifacts, KEDA's and the Prometheus Operator's from their Go modules — are built by `make test`
# in the background while the other tests run (the first time about 10 minutes of the 2 cores),
# and cached beside the Kafka jars: `make run` does not need them.

UV_VERSION := 0.13.9
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)

.PHONY: setup deploy-tools deploy-tools-background run test bench lint format schemas kafka-up kafka-down clean

setup: ## install everything the system and the tests need (but the deployment tools)
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) sync --frozen --compile-bytecode
	$(UV) run python -m compileall -q contracts/src kit/src access/src tools/*/src services/*/src >/dev/null
	@command -v java >/dev/null 2>&1 && command -v mvn >/dev/null 2>&1 \
		&& ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v chromium >/dev/null 2>&1 \
		&& command -v openssl >/dev/null 2>&1 \
		|| { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
			--no-install-recommends postgresql openjdk-17-jre-headless maven chromium openssl; }
	$(UV) run python -c "from carenet_devtools import cache, kafka; print('Kafka jars:', kafka.ensure_jars(cache.default_cache_dir()))"

deploy-tools: setup ## kustomize, the CRDs and the test control plane (etcd, kube-apiserver, kube-controller-manager, kubectl)
	@command -v go >/dev/null 2>&1 || { echo "make deploy-tools: Go is needed to build kustomize and the control plane" >&2; exit 1; }
	$(UV) run carenet-dev deploy-tools

deploy-tools-background: setup ## the same, in the background at the lowest priority (log: .run/deploy-tools.log); a second start waits for the first
	@command -v go >/dev/null 2>&1 || { echo "make deploy-tools: Go is needed to build kustomize and the control plane" >&2; exit 1; }
	@mkdir -p .run && echo "deployment tools: building in the background (log: .run/deploy-tools.log)"
	@nice -n 19 $(UV) run carenet-dev deploy-tools >> .run/deploy-tools.log 2>&1 &

run: setup ## run Kafka and the five services with embedded storage and the demo directory
	$(UV) run carenet-dev run

# The deployment tools build on the CPU the tests leave idle; the deployment tests go last and
# wait for them (conftest.py).
test: setup deploy-tools-background ## run every test against a real Kafka broker, SQLite and PostgreSQL, and the manifests against a real API server
	$(UV) run pytest -n 2 --dist loadgroup --no-loadscope-reorder

bench: setup ## CareNet against raw baselines, one table; options: make bench BENCH_ARGS="--help"
	$(UV) run python -m bench $(BENCH_ARGS)

lint: ## ruff (lint and format) and mypy --strict
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy contracts/src kit/src access/src tools/*/src services/*/src bench

format:
	$(UV) run ruff format .
	$(UV) run ruff check --fix .

schemas: ## regenerate contracts/schemas/ from the contract models
	$(UV) run carenet-dev schemas

kafka-up: ## a local broker on 127.0.0.1:9092 with the topics of deploy/topics.yaml
	$(UV) run carenet-dev kafka up

kafka-down:
	$(UV) run carenet-dev kafka down

clean: kafka-down
	rm -rf .run
