# The two commands of the README. Each does its own set-up first (scripts/setup.sh, idempotent).
.PHONY: demo test setup stubs bench audit

setup:
	@scripts/setup.sh

# The main job: grade each assignment's shipped example submissions as a class, print the tables.
demo: setup
	@for folder in examples/*/; do slug=$$(basename $$folder); \
	  echo "=== $$slug"; .venv/bin/grade batch $$slug $$folder --out out/examples/$$slug || exit $$?; done

# The project's own tests (what .ci/run calls).
test: setup
	.venv/bin/python -m pytest -q tests

# Regenerate the student stubs from the references' SOLUTION regions.
stubs: setup
	.venv/bin/python -m autograder.stubgen

# Mutation-test every hidden suite against its YAML threshold (committed audit.json reused when current).
audit: setup
	.venv/bin/grade audit --check
