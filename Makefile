# The two commands that matter: `make run` and `make test`. See README.md.
.PHONY: run dev test setup lint unit integration e2e bench clean

run:            ## set everything up and run the app on http://localhost:3000
	./scripts/run.sh

dev:            ## hot-reloading development server
	DEV=1 ./scripts/run.sh

test:           ## set everything up and run lint + unit + integration (SQLite and PostgreSQL) + e2e + production-like e2e
	./scripts/test.sh

setup:
	./scripts/setup.sh

lint:
	./scripts/test.sh lint

unit:
	./scripts/test.sh unit

integration:
	./scripts/test.sh integration+unit-db

e2e:
	./scripts/test.sh e2e

clean:
	rm -rf .web .web-production .states var/test-*
