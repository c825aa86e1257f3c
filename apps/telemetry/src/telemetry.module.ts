import { Inject, Injectable, Module } from '@nestjs/common';
import type { OnModuleInit } from '@nestjs/common';

import { MetricsService, ServiceEndpoints } from '@baton/service-kit';
import { BATON_STREAMS } from '@baton/transport-jetstream';

import { AlertsController } from './alerts/alerts.controller';
import { AlertsService } from './alerts/alerts.service';
import { AnalyticsController } from './analytics/analytics.controller';
import { AnalyticsHandler } from './analytics/analytics.handler';
import { AnalyticsService } from './analytics/analytics.service';
import { storageProvider } from './database/database.providers';
import { ServicesController } from './services/services.controller';
import { ServicesService } from './services/services.service';
import { TelemetryMetrics } from './telemetry.metrics';

/**
 * Streams the telemetry service reads: execution history (`BATON_HISTORY`), Baton's notifications
 * (`BATON_EVENTS`), dead letters (`BATON_DLQ`) and the alerts it publishes (`BATON_ALERTS`). Ensured at start and checked by readiness.
 */
export const TELEMETRY_STREAMS = [
  BATON_STREAMS.HISTORY,
  BATON_STREAMS.NOTIFY,
  BATON_STREAMS.DLQ,
  BATON_STREAMS.ALERTS,
];

/** Names of the request-reply mirrors, on `baton.api.telemetry.<name>`. */
export const TELEMETRY_ENDPOINTS = {
  ANALYTICS_WORKFLOWS: 'analytics.workflows',
  ANALYTICS_WORKFLOW: 'analytics.workflow',
  ANALYTICS_STEPS: 'analytics.steps',
  SERVICES_LIST: 'services.list',
  ALERTS_LIST: 'alerts.list',
} as const;

/** Registers the request-reply mirrors of the HTTP routes. */
@Injectable()
export class TelemetryEndpoints implements OnModuleInit {
  constructor(
    @Inject(ServiceEndpoints) private readonly endpoints: ServiceEndpoints,
    @Inject(AnalyticsService) private readonly analytics: AnalyticsService,
    @Inject(ServicesService) private readonly services: ServicesService,
    @Inject(AlertsService) private readonly alerts: AlertsService,
  ) {}

  onModuleInit(): void {
    const { endpoints, analytics, services, alerts } = this;
    endpoints.add(TELEMETRY_ENDPOINTS.ANALYTICS_WORKFLOWS, (data) => analytics.workflows(data));
    endpoints.add(TELEMETRY_ENDPOINTS.ANALYTICS_WORKFLOW, (data) => analytics.workflow(data));
    endpoints.add(TELEMETRY_ENDPOINTS.ANALYTICS_STEPS, (data) => analytics.steps(data));
    endpoints.add(TELEMETRY_ENDPOINTS.SERVICES_LIST, () => services.list());
    endpoints.add(TELEMETRY_ENDPOINTS.ALERTS_LIST, () => Promise.resolve(alerts.list()));
  }
}

/** The telemetry service: history analytics (consumer `telemetry-history`), services health and alerts. */
@Module({
  controllers: [AnalyticsController, ServicesController, AlertsController, AnalyticsHandler],
  providers: [
    {
      provide: TelemetryMetrics,
      inject: [MetricsService],
      useFactory: (metrics: MetricsService) => new TelemetryMetrics(metrics),
    },
    storageProvider,
    AnalyticsService,
    ServicesService,
    AlertsService,
    TelemetryEndpoints,
  ],
})
export class TelemetryModule {}
