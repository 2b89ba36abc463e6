import { workerData } from 'node:worker_threads';
import { answerRequests, yieldToEventLoop } from '../../workers.js';
import { memoryOfAnswer, type SpanDecodeSetup, spanDecoderFor } from './decode.js';

/** A span-parsing thread of the collector (see SpanDecoder). */
yieldToEventLoop();
answerRequests(spanDecoderFor(workerData as SpanDecodeSetup), memoryOfAnswer);
