#!/bin/sh
# The AWS CLI (and every AWS SDK) through a profile whose credential_process is ours.
set -eu
bucket="${1:-infnminio-demo}"
infnminio-boto configure --profile infnminio-example >/dev/null
aws --profile infnminio-example s3api head-bucket --bucket "$bucket" 2>/dev/null \
    || aws --profile infnminio-example s3 mb "s3://$bucket" >/dev/null
upload=$(mktemp)  # a new file of ours: no name in /tmp another user could plant a link at
trap 'rm -f "$upload"' EXIT
echo "hello from the AWS CLI" > "$upload"
aws --profile infnminio-example s3 cp --only-show-errors "$upload" "s3://$bucket/hello/aws-cli.txt"
aws --profile infnminio-example s3 ls "s3://$bucket/hello/" | sed 's/^/  /'
