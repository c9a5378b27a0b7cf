import type { CreditApplication } from "../src/index.js";

export const APPLICANT: CreditApplication = {
  age: 35, monthly_income: 80000, monthly_debt: 20000, credit_limit: 200000, credit_used: 50000,
  loan_amount: 500000, payments_missed: 1, total_payments: 48, months_employed: 60,
  credit_history_months: 84, num_credit_accounts: 4, has_mortgage: false, has_car_loan: true,
  employment_type: "salaried", education: "graduate",
};
