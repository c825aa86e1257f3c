export { Worker } from './worker';
export {
  CompleteAsyncError,
  NonRetryableError,
  TaskAbortReason,
  TaskAbortedError,
  isCompleteAsyncError,
  isNonRetryableError,
  isTaskAbortedError,
} from './task.errors';
export { CANCELLED_ERROR_TYPE, TIMEOUT_ERROR_TYPE } from './task.processor';
export { WorkerErrorType, toErrorInfo } from './error-info';
export { taskConsumerConfig } from './task-consumer.binder';
export { MAX_CONCURRENCY, MIN_ACK_WAIT_MS, WORKER_DEFAULTS } from './worker.options';
export { WORKER_VERSION } from './version';
export type { HandleOptions, TaskContext, TaskHandler, WorkerLogger, WorkerOptions } from './worker.types';
