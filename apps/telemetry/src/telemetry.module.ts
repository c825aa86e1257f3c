import { Module } from '@nestjs/common';

import { BATON_STREAMS } from '@baton/transport-jetstream';

/**
 * Streams the telemetry service reads: execution history (`BATON_HISTORY`), Baton's notifications
 * (`BATON_EVENTS`) and dead letters (`BATON_DLQ`). Ensured at start and checked by readiness.
 */
export const TELEMETRY_STREAMS = [BATON_STREAMS.HISTORY, BATON_STREAMS.NOTIFY, BATON_STREAMS.DLQ];

/** The telemetry service's own providers; the common surface comes from service-kit's core module. */
@Module({})
export class TelemetryModule {}
