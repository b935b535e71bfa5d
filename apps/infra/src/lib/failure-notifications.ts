import { Stack } from 'aws-cdk-lib';
import { Alias } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { workflowResourceNames } from '@scones/workflow';

export interface FailureNotificationsProps {
  /** Subscribes this address by e-mail (AWS sends a confirmation message first). */
  email?: string;
}

/**
 * The SNS topic the state machines publish a message to when an execution fails. Encrypted with
 * the AWS managed key for SNS: its key policy lets every principal of the account that may publish
 * to the topic use it through SNS, so publishers need no KMS permission and there is no key to pay
 * for or rotate. Publishing requires TLS.
 */
export class FailureNotifications extends Construct {
  readonly topic: Topic;

  constructor(scope: Construct, id: string, props: FailureNotificationsProps = {}) {
    super(scope, id);
    this.topic = new Topic(this, 'Topic', {
      topicName: workflowResourceNames(Stack.of(this).stackName).topic,
      displayName: 'Scones workflow failures',
      masterKey: Alias.fromAliasName(this, 'SnsManagedKey', 'alias/aws/sns'),
      enforceSSL: true,
    });
    if (props.email) this.topic.addSubscription(new EmailSubscription(props.email));
  }
}
