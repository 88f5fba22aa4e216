import { describeEksStack } from './eks-policy.js';

describeEksStack('prod');
