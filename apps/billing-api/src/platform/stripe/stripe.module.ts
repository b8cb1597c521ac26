import { Global, Module } from '@nestjs/common';
import { StripeGateway } from './stripe.gateway.js';

/** The Stripe gateway, available to every module (and the only importer of the SDK). */
@Global()
@Module({ providers: [StripeGateway], exports: [StripeGateway] })
export class StripeModule {}
