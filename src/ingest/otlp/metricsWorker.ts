import { answerRequests, yieldToEventLoop } from '../../workers.js';
import { answerMetricRead } from './metricsDecoder.js';

/** A thread reading OTLP metric exports (see MetricDecoder). */
yieldToEventLoop();
answerRequests(answerMetricRead);
