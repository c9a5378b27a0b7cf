// Names for the generated types (src/generated/openapi.ts, from the server's OpenAPI
// document): requests and answers as the server defines them.
import type { components, operations, paths } from "./generated/openapi.js";

export type { components, operations, paths };
export type Schemas = components["schemas"];

type Json<Op extends keyof operations> = operations[Op] extends {
  responses: { 200: { content: { "application/json": infer T } } };
}
  ? T
  : never;
type Body<Op extends keyof operations> = operations[Op] extends {
  requestBody: { content: { "application/json": infer T } };
}
  ? T
  : never;

export type IntentRequest = Schemas["IntentRequest"];
export type NerRequest = Schemas["NerRequest"];
export type SpendingRequest = Schemas["SpendingRequest"];
export type AnomalyRequest = Schemas["AnomalyRequest"];
export type CreditRequest = Schemas["CreditRequest"];
export type CreditApplication = Schemas["CreditApplication"];
export type TransactionInput = Schemas["TransactionInput"];

/** The five models and their prediction operations. */
export interface Models {
  intent: "predict_intent";
  ner: "predict_ner";
  spending: "predict_spending";
  anomaly: "predict_anomaly";
  credit: "predict_credit";
}
export type ModelName = keyof Models;
/** The request body of a model's prediction route. */
export type RequestOf<M extends ModelName> = Body<Models[M]>;
/** The answer of a model's prediction route: the output, `prediction_id`, `model_version`. */
export type AnswerOf<M extends ModelName> = Json<Models[M]>;
/** The answer of a model's batch route. */
export type BatchAnswerOf<M extends ModelName> = Json<`${Models[M]}_batch` & keyof operations>;

export type IntentAnswer = AnswerOf<"intent">;
export type NerAnswer = AnswerOf<"ner">;
export type SpendingAnswer = AnswerOf<"spending">;
export type AnomalyAnswer = AnswerOf<"anomaly">;
export type CreditAnswer = AnswerOf<"credit">;

export type ModelsResponse = Schemas["ModelsResponse"];
export type HealthResponse = Schemas["HealthResponse"];
export type StatisticsResponse = Schemas["StatisticsResponse"];
export type OnlineFeaturesRequest = Schemas["OnlineFeaturesRequest"];
export type OnlineFeaturesResponse = Schemas["OnlineFeaturesResponse"];
export type FeedbackRequest = Schemas["FeedbackRequest"];
export type ReloadResponse = Schemas["ReloadResponse"];
export type FeedbackRecorded = Schemas["FeedbackRecorded"];
export type DriftReport = Schemas["DriftReport"];
export type Performance = Schemas["Performance"];

/** Each model's route (`/predict/{route}`); checked against the generated paths. */
export const ROUTES = {
  intent: "intent",
  ner: "ner",
  spending: "spending",
  anomaly: "anomaly",
  credit: "credit-risk",
} as const satisfies Record<ModelName, string>;

// a route missing from the server's document is a compile error here
type _RoutesExist = { [M in ModelName]: paths[`/predict/${(typeof ROUTES)[M]}`]["post"] };
export type { _RoutesExist };
