# lakestream: build, test and run the Lambda functions locally, and build
# them for `sam build` (BuildMethod: makefile, a build-<LogicalId> target
# per function). Every target works from one list of functions: the
# folders under functions/.

# The repository root: sam build runs this Makefile with -f from elsewhere.
ROOT        := $(dir $(abspath $(lastword $(MAKEFILE_LIST))))
FUNCTIONS   := $(notdir $(wildcard $(ROOT)functions/*))
DEPLOY_ARCH ?= arm64
FUZZTIME    ?= 10s
BENCHTIME   ?= 1s
ROUNDS      ?= 5
PORT        ?= 5000
GO          ?= go

# How every bootstrap is built, here and by shared/lambdarun (BuildFlags):
# no RPC server in aws-lambda-go, no local paths, no symbol or DWARF tables.
GOBUILD     := CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w'

# Every go command here compiles as the bootstraps are compiled (no cgo,
# -trimpath, the lambda.norpc tag), so each package is compiled once for
# the bootstraps, the tests and the tools alike, and the build cache does
# not depend on the checkout's path (clones and worktrees share it): on a
# fresh machine the AWS SDK is compiled once, not twice.
export CGO_ENABLED := 0
export GOFLAGS := $(strip $(GOFLAGS) -trimpath -tags=lambda.norpc)

# No X-Ray daemon or segment outside Lambda (see shared/awsclient).
export AWS_XRAY_CONTEXT_MISSING ?= IGNORE_ERROR

# logical_id is a function folder's SAM logical id: cwlogs-decompressor is
# CwlogsDecompressorFunction (shared/lambdarun.LogicalID).
logical_id = $(shell echo '$(1)' | awk -F- '{ for (i = 1; i <= NF; i++) printf "%s%s", toupper(substr($$i, 1, 1)), substr($$i, 2) }')Function
SAM_TARGETS := $(foreach fn,$(FUNCTIONS),build-$(call logical_id,$(fn)))

.PHONY: all build test unit lint tools invoke demo replay bench bench-compare bench-go fuzz aws-local clean $(SAM_TARGETS)

all: build

## build: cross-compile every function's bootstrap as `sam build` does (linux/arm64, provided.al2023)
##   into .build/arm64/<function>/bootstrap
build: $(SAM_TARGETS)

## build-<LogicalId>: what `sam build` runs for a function (BuildMethod: makefile): its bootstrap,
##   for linux/$(DEPLOY_ARCH), into $$ARTIFACTS_DIR (default .build/$(DEPLOY_ARCH)/<function>)
define sam_build
build-$(call logical_id,$(1)): ARTIFACTS_DIR ?= $(ROOT).build/$(DEPLOY_ARCH)/$(1)
build-$(call logical_id,$(1)):
	@echo "build $(1) for linux/$(DEPLOY_ARCH) into $$(ARTIFACTS_DIR)/bootstrap"
	@cd $(ROOT) && GOOS=linux GOARCH=$(DEPLOY_ARCH) $(GOBUILD) -o "$$(abspath $$(ARTIFACTS_DIR))/bootstrap" ./functions/$(1)
endef
$(foreach fn,$(FUNCTIONS),$(eval $(call sam_build,$(fn))))

## tools: moto_server and cfn-lint must be installed (pip installs them only when missing)
tools:
	@command -v moto_server >/dev/null 2>&1 || pip install "moto[server]>=5" >/dev/null 2>&1 || \
		{ echo 'moto_server is missing: install it with pip install "moto[server]>=5"'; exit 1; }
	@command -v moto_server >/dev/null 2>&1 || { echo 'moto_server is missing: install it with pip install "moto[server]>=5"'; exit 1; }
	@command -v cfn-lint >/dev/null 2>&1 || pip install cfn-lint >/dev/null 2>&1 || \
		{ echo 'cfn-lint is missing: install it with pip install cfn-lint'; exit 1; }
	@command -v cfn-lint >/dev/null 2>&1 || { echo 'cfn-lint is missing: install it with pip install cfn-lint'; exit 1; }

## test: lint, then every unit, golden, fuzz-seed and integration test (integration tests start moto_server
##   themselves; shared/lambdarun's SAM test runs every build-<LogicalId> target, so every function is
##   proven to build for linux/$(DEPLOY_ARCH)). -vet=off: lint has just run go vet, every analyzer, test
##   files included, and go test's own subset would only vet everything again (a sixth of a warm run).
##   TEST_P test binaries run at once: most of a test's time is spent waiting (on moto_server, on a
##   function's process, on a timeout being proven), so twice the cores keeps both busy. The packages in
##   TEST_FIRST, the longest (shared/lambdarun compiles every function for arm64), start first, so the
##   run does not end waiting on one of them alone. -ldflags=-w: test binaries without DWARF tables link
##   about a third faster (sixty-odd of them); failures and panics still print file and line.
TEST_P     ?= 4
TEST_FIRST := ./shared/lambdarun ./shared/faulttest ./shared/moto ./shared/cmd/invoke
test: tools lint
	$(GO) test -p $(TEST_P) -vet=off -count=1 -ldflags=-w $(TEST_FIRST) ./...

## lint: gofmt, go vet, go mod tidy (go.mod and go.sum as tidy leaves them) and cfn-lint, with zero findings.
##   On a fresh machine the module download (~12 s) leaves the cores idle, so the standard library packages
##   the code uses (STD_WARM and what they import: 222 of the 236 std packages) are compiled meanwhile, as
##   go vet and go test would compile them, into the build cache; cfn-lint (one core, ~8 s) runs beside
##   all of it. Its output is printed once go vet is done, and any check's failure fails lint.
STD_WARM := net/http net/http/httptest net/http/httputil encoding/json encoding/xml log/slog regexp \
	compress/gzip compress/zlib hash/crc64 hash/fnv os/exec os/signal os/user html/template go/parser debug/elf \
	runtime/pprof testing
lint: tools
	@out=$$(gofmt -l functions shared); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	@cfnout=$$(mktemp); trap 'rm -f "$$cfnout"' EXIT; \
	cfn-lint template.yaml >"$$cfnout" 2>&1 & cfn=$$!; \
	$(GO) mod download & dl=$$!; $(GO) list -export -deps $(STD_WARM) >/dev/null; wait $$dl; \
	echo "$(GO) vet ./..."; $(GO) vet ./...; vet=$$?; \
	tidy=0; $(GO) mod tidy -diff >/dev/null 2>&1 || { tidy=1; echo "go mod tidy would change go.mod or go.sum (run it and commit the result):"; $(GO) mod tidy -diff; }; \
	cfnok=0; wait $$cfn || cfnok=$$?; echo "cfn-lint template.yaml"; cat "$$cfnout"; \
	test $$vet = 0 -a $$tidy = 0 -a $$cfnok = 0

## invoke: run one function's real bootstrap on one event under the local Runtime API, as sam local invoke does
##   make invoke FN=firehose-json EVENT=events/firehose-json/mixed.json [ENV=env.json] [TIMEOUT=10] [DECODE=0] [AWS=real]
##   AWS calls go to an embedded moto_server holding what the template's defaults name (AWS=real: your account,
##   with the shell's credentials); prints the response, the function's log, its X-Ray trace and what changed
DECODE ?= 1
invoke:
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=<function> EVENT=<event.json> [ENV=env.json] [TIMEOUT=seconds] [DECODE=0] [AWS=real]"; exit 2; }
	@$(GO) run ./shared/cmd/invoke -fn $(FN) -event $(EVENT) $(if $(ENV),-env-vars $(ENV)) $(if $(TIMEOUT),-timeout $(TIMEOUT)) \
		-decode=$(if $(filter 1 true yes,$(DECODE)),true,false) $(if $(AWS),-aws $(AWS))

## demo: start moto, create the resources, run every function on sample data, print what happened
demo: tools
	@$(GO) run ./shared/cmd/demo

## replay: send failed records through again, against the shell's AWS account and region (or the emulator
##   AWS_ENDPOINT_URL names); a dry run unless ARGS holds -apply (see README.md, "Replay")
##   make replay ARGS='firehose -source s3://<bucket>/<error prefix>/processing-failed/ -stream <delivery stream> [-from 2024-05-01] [-apply]'
##   make replay ARGS='stream -queue <on-failure queue URL> -function <ddb-stream-forwarder name> [-apply]'
replay:
	@test -n "$(ARGS)" || { $(GO) run ./shared/cmd/replay; exit 2; }
	@$(GO) run ./shared/cmd/replay $(ARGS)

## bench: whole-invocation benchmarks on the standard batches (shared/benchdata), in-process and through the
##   local Runtime API against the real bootstraps, one core, ROUNDS rounds; every function's init beside a
##   minimal aws-lambda-go function's and its linux/arm64 bootstrap's size (make build); Markdown on stdout
##   and in .build/bench/results.md. The cases that put records into Firehose put them into a Go endpoint that
##   accepts every record (shared/moto/sink), on the other core.
bench:
	@$(MAKE) --no-print-directory build DEPLOY_ARCH=arm64
	@$(GO) run ./shared/cmd/bench -rounds $(ROUNDS) -arm64 $(ROOT).build/arm64 -out $(ROOT).build/bench

## bench-compare: bench, and the reference implementations in BENCH_REF beside it on the same batches
##   (on our machines the folder is /work/shared/bench: the AWS blueprints' steps in Python and Node.js,
##   the Go floor), interleaved; the report adds the ratios, the issue's targets and the cost model.
##   BENCH_README=README.md also puts the report into the README's Performance section.
bench-compare:
	@test -n "$(BENCH_REF)" || { echo "usage: make bench-compare BENCH_REF=<folder of the reference implementations> [ROUNDS=5]"; exit 2; }
	@$(MAKE) --no-print-directory build DEPLOY_ARCH=arm64
	@$(GO) run ./shared/cmd/bench -ref $(BENCH_REF) -rounds $(ROUNDS) -arm64 $(ROOT).build/arm64 -out $(ROOT).build/bench \
		$(if $(BENCH_README),-readme $(BENCH_README))

## bench-go: every Go benchmark, with allocations
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

## fuzz: every fuzz target for FUZZTIME each, all of them even after a failure, a summary at the end;
##   a run that fails only with the toolchain's fuzztime deadline race (go.dev/issue/75804) is retried once
##   and never counts as a finding
fuzz:
	@$(GO) run ./shared/cmd/fuzz -fuzztime $(FUZZTIME)

## aws-local: a moto_server on 127.0.0.1:$(PORT) for manual use (Ctrl-C stops it)
aws-local: tools
	@echo "export AWS_ENDPOINT_URL=http://127.0.0.1:$(PORT) AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1"
	moto_server -H 127.0.0.1 -p $(PORT)

clean:
	rm -rf .build
	$(GO) clean -testcache
