"""The deployment pipeline's code: what CodeBuild runs between the CloudFormation deploys.

Run as ``python -m pipeline_code.deployment <command> [flags]``. Every flag can also come from
the environment variable named beside it (an empty variable counts as unset, so CodePipeline
variables with an empty default fall through). Exit status: 0 done, 1 the deployment must stop
(one line on stderr says why), 2 bad flags, 3 nothing to do (see ``resolve``). Only the
standard library and boto3 are needed (boto3 is imported when a command runs, so ``--help``
is cheap); ``deploy-local`` also needs the ``ml`` extra.

resolve
    Find the version to deploy and decide whether to deploy it.
    --model-package-group (MODEL_PACKAGE_GROUP_NAME)   the registry group
    --model-package-arn (MODEL_PACKAGE_ARN)            explicit version; may be older (rollback)
    --event-model-package-arn (EVENT_MODEL_PACKAGE_ARN) the approval event's version
    --prod-endpoint-name (PROD_ENDPOINT_NAME)          what production serves now
    --endpoint-name (ENDPOINT_NAME)                    EndpointName in the template configuration
    --stage STAGE=ENDPOINT_NAME                        also write <stem>-<STAGE>.json (repeatable)
    --parameter Key=Value                              extra template parameters (repeatable)
    --output (RESOLVED_FILE, default resolved.json)
    --template-configuration (TEMPLATE_CONFIGURATION, default template-configuration.json)
    --env-file (RESOLVED_ENV_FILE)                     KEY=value lines for exported-variables
    --on-duplicate fail|succeed (ON_DUPLICATE, default fail): the same version as production
                                                       exits 3, or 0 with DEPLOY_DECISION=nothing-to-do

smoke-test
    Send every sample row (CSV without header) in small batches and check each answer.
    --endpoint-name (ENDPOINT_NAME) or --url (MODEL_SERVER_URL, the local server)
    --target-variant (TARGET_VARIANT)
    --sample-file (SAMPLE_FILE)                        local path or s3://bucket/key
    --skip-header, --max-rows N
    --batch-size (SMOKE_BATCH_SIZE, default 10)
    --accept application/json|text/csv

latency-test
    Timed requests of 1 row and of --batch-rows rows; fails when a p99 is above its limit.
    target and sample flags as smoke-test, plus
    --p99-ms (P99_MS, required), --batch-p99-ms (BATCH_P99_MS, default --p99-ms)
    --requests (LATENCY_REQUESTS, default 100), --batch-rows (LATENCY_BATCH_ROWS, default 100)
    --warmup (default 5), --concurrency (LATENCY_CONCURRENCY, default 1)

verify
    After a deploy: the endpoint is InService and its current config serves the version.
    --endpoint-name (ENDPOINT_NAME)
    --model-package-arn (MODEL_PACKAGE_ARN) or --resolved (RESOLVED_FILE): the expected version
    --expected-endpoint-config-name (EXPECTED_ENDPOINT_CONFIG_NAME): the stack's output
    --alerts-topic-arn (ALERTS_TOPIC_ARN)              SNS topic told about a failed deployment
    --stage (STAGE)                                    label in messages (staging, prod)
    --wait-seconds (default 900), --poll-seconds (default 15)

deploy-local
    Rehearse all of it on this machine against the local registry and the local model server.
    See ``python -m pipeline_code.deployment deploy-local --help``.

Every command takes ``--region`` (AWS_REGION / AWS_DEFAULT_REGION as boto3 reads them).
The IAM actions each command needs are in :mod:`pipeline_code.deployment.permissions`.
"""
