# Thin aliases for the scripts in scripts/ (which need only bash and Python).
.PHONY: run test lint bench bench-api bench-detection bench-digests bench-scale bench-growth bench-load evaluate lock clean

run:
	scripts/run

test:
	scripts/test

lint:
	scripts/bootstrap dev
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy .

bench:
	scripts/bootstrap dev
	.venv/bin/python -m tests.benchmarks.polling

bench-api:
	scripts/bootstrap dev
	.venv/bin/python -m tests.benchmarks.api

bench-detection:
	scripts/bootstrap dev
	.venv/bin/python -m tests.benchmarks.detection

bench-digests:
	scripts/bootstrap dev
	.venv/bin/python -m tests.benchmarks.digests

# The next three need PostgreSQL and Redis (DATABASE_URL / REDIS_URL, defaults on 127.0.0.1).
bench-scale:
	scripts/bootstrap dev
	.venv/bin/python -m tests.benchmarks.scale

bench-growth:
	scripts/bootstrap dev
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/bench_growth} .venv/bin/python -m tests.benchmarks.growth

bench-load:
	scripts/bootstrap dev
	.venv/bin/python -m tests.benchmarks.load

evaluate:
	scripts/bootstrap dev
	mkdir -p var
	DJANGO_DEBUG=1 DATABASE_URL=$${DATABASE_URL:-sqlite:///var/evaluate.sqlite3} .venv/bin/python manage.py migrate -v0
	DJANGO_DEBUG=1 DATABASE_URL=$${DATABASE_URL:-sqlite:///var/evaluate.sqlite3} .venv/bin/python manage.py evaluate_detection --bundled-watchlist

# Regenerate the pinned requirements/*.txt from requirements/*.in.
lock:
	scripts/bootstrap dev
	.venv/bin/pip install --quiet pip-tools
	cd requirements && for set in base prod dev; do ../.venv/bin/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links $$set.in -o $$set.txt; done

clean:
	rm -rf var .venv .pytest_cache .mypy_cache .ruff_cache
