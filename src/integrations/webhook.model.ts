import { Schema, type Connection, type Model } from 'mongoose';

/** An outside system (ERP, dealer management) that wants task events POSTed to it. */
export interface SubscriptionDocument {
  _id: string;
  url: string;
  events: string[];
  description: string;
  /** Kept as is: the HMAC needs the secret itself, not a hash. Never logged, never listed. */
  secret: string;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export type DeliveryState = 'pending' | 'retrying' | 'delivered' | 'failed' | 'cancelled';

export interface DeliveryAttempt {
  at: Date;
  /** The receiver's HTTP status; absent when no answer came (network error, timeout). */
  statusCode?: number;
  error?: string;
  durationMs: number;
}

/** One event for one subscription; `_id` is the delivery id the receiver sees (deterministic, so a repeated event is one delivery). */
export interface DeliveryDocument {
  _id: string;
  subscriptionId: string;
  taskId: string;
  taskVersion: number;
  event: string;
  /** The exact JSON sent, so a retry or a redelivery sends the same bytes. */
  body: string;
  state: DeliveryState;
  attempts: DeliveryAttempt[];
  /** How many times an admin asked to send it again. */
  redeliveries: number;
  deliveredAt?: Date;
  createdAt: Date;
  updatedAt: Date;
}

const subscriptionSchema = new Schema<SubscriptionDocument>(
  {
    _id: { type: String, required: true },
    url: { type: String, required: true },
    events: { type: [String], required: true },
    description: { type: String, default: '' },
    secret: { type: String, required: true },
    createdBy: { type: String, required: true },
  },
  { timestamps: true, versionKey: false },
);

const deliverySchema = new Schema<DeliveryDocument>(
  {
    _id: { type: String, required: true },
    subscriptionId: { type: String, required: true },
    taskId: { type: String, required: true },
    taskVersion: { type: Number, required: true },
    event: { type: String, required: true },
    body: { type: String, required: true },
    state: { type: String, required: true },
    attempts: { type: Schema.Types.Mixed, default: () => [] },
    redeliveries: { type: Number, default: 0 },
    deliveredAt: Date,
  },
  { timestamps: true, versionKey: false, minimize: false },
);
// The delivery log of one subscription, newest first (admin view).
deliverySchema.index({ subscriptionId: 1, createdAt: -1 });
// The reconciler's scan for deliveries still to be tried after Redis lost their jobs.
deliverySchema.index({ state: 1, _id: 1 });

export function webhookModels(connection: Connection): { Subscription: Model<SubscriptionDocument>; Delivery: Model<DeliveryDocument> } {
  return {
    Subscription: connection.models.WebhookSubscription ?? connection.model<SubscriptionDocument>('WebhookSubscription', subscriptionSchema, 'webhook_subscriptions'),
    Delivery: connection.models.WebhookDelivery ?? connection.model<DeliveryDocument>('WebhookDelivery', deliverySchema, 'webhook_deliveries'),
  };
}
