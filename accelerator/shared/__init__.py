"""What every area of the domain uses: settings, the database, errors, logs, input types and
the French text catalogue. Imports no area (checked by `lint-imports`)."""
