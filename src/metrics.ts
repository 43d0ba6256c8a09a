/** Prometheus metrics of the API process (the worker serves its own on WORKER_METRICS_PORT). */
import client from 'prom-client';

export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });

export const metrics = {
  eventsIngested: new client.Counter({
    name: 'events_ingested_total',
    help: 'Events received by POST /events, by outcome (accepted, duplicate, conflict, rate_limited, in_flight_limited)',
    labelNames: ['outcome'],
    registers: [registry],
  }),
  httpDuration: new client.Histogram({
    name: 'http_request_duration_seconds',
    help: 'API request duration',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  }),
  deliveryReceipts: new client.Counter({
    name: 'delivery_receipts_total',
    help: 'SMS delivery receipts (Twilio StatusCallback) by status; recorded=false: unknown message, repeated or out of order',
    labelNames: ['status', 'recorded'],
    registers: [registry],
  }),
  smsKeywords: new client.Counter({
    name: 'sms_keywords_total',
    help: 'Inbound SMS by keyword (stop, start, help, other)',
    labelNames: ['keyword'],
    registers: [registry],
  }),
};
