// Package awsfake provides local fakes of the AWS services that mfabot uses:
// IAM, CloudWatch Logs (Logs Insights queries) and SQS.
//
// Each fake is an HTTP server on 127.0.0.1 (net/http/httptest) that speaks the
// service's real wire protocol, so the real aws-sdk-go-v2 clients talk to it
// unchanged:
//
//   - IAM speaks the AWS query protocol: form-encoded POST bodies with
//     Action and Version=2010-05-08, and XML responses in the namespace
//     https://iam.amazonaws.com/doc/2010-05-08/.
//   - CloudWatch Logs speaks AWS JSON 1.1 (X-Amz-Target: Logs_20140328.<Op>).
//   - SQS speaks AWS JSON 1.0 (X-Amz-Target: AmazonSQS.<Op>), including the
//     x-amzn-query-error header that the SDK uses to report the legacy query
//     error codes, and correct MD5 digests, which the SDK validates.
//
// # Pointing SDK clients at a fake
//
// The simplest way is to use the constructors on each fake, which return a
// client with static credentials ("AKIDFAKE"/"secret"), region us-east-1, no
// retries and BaseEndpoint set to the fake:
//
//	f := awsfake.NewIAM()
//	defer f.Close()
//	client := f.Client() // *iam.Client
//
// Code that builds its own clients can take the configuration from [Config],
// or set the endpoint in the service options:
//
//	client := iam.NewFromConfig(cfg, func(o *iam.Options) {
//		o.BaseEndpoint = aws.String(f.URL())
//	})
//
// Code that loads its configuration with config.LoadDefaultConfig can be
// redirected without changes through the service-specific endpoint
// environment variables, which the SDK reads at load time:
//
//	AWS_ENDPOINT_URL_IAM=<iam fake URL>
//	AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=<logs fake URL>
//	AWS_ENDPOINT_URL_SQS=<sqs fake URL>
//
// together with AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION. The
// general AWS_ENDPOINT_URL variable does not work with these fakes, because
// each service runs on its own server.
//
// # Test hooks
//
// Every fake records the requests it receives ([Call], returned by Calls) and
// accepts injected failures through Fail with a [FaultSpec]: an error code,
// an HTTP status, a message and an optional delay. Each fake also has
// service-specific state setters and inspectors, described on its type.
//
// The fakes reject requests that carry no SigV4 Authorization header, but
// they do not verify signatures.
package awsfake
