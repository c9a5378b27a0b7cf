//! Credit applications with a documented default mechanism.
//!
//! A latent financial-stress factor shapes utilisation, debt and missed payments. Default is
//! drawn as `Bernoulli(sigmoid(f(x) + e))`, where `f` is [`default_logit`] (a known function of
//! the observed fields) and `e ~ N(0, 0.8^2)` is noise no model can see. Because `f` is monotone
//! in the true default probability, the AUC of `f` on the generated set is the best AUC any
//! model can reach; the generator reports it as `achievable_auc` in `manifest.json`.

use nivesh_core::rng::Rng;
use nivesh_core::{CreditApplication, Education, EmploymentType};

/// Standard deviation of the unobservable noise in the default mechanism.
pub const NOISE_SD: f64 = 0.8;

/// The documented log-odds of default given the observed fields.
pub fn default_logit(a: &CreditApplication) -> f64 {
    let income = a.monthly_income.max(1.0);
    let dti = a.monthly_debt / income;
    let utilisation = if a.credit_limit > 0.0 { (a.credit_used / a.credit_limit).min(1.5) } else { 0.5 };
    let miss_rate = if a.total_payments > 0 { a.payments_missed as f64 / a.total_payments as f64 } else { 0.0 };
    let loan_to_income = a.loan_amount / (income * 12.0);
    let employment = match a.employment_type {
        EmploymentType::Salaried => 0.0,
        EmploymentType::SelfEmployed => 0.35,
        EmploymentType::Business => 0.25,
        EmploymentType::Unemployed => 1.2,
        EmploymentType::Student => 0.6,
        EmploymentType::Retired => 0.2,
    };
    -2.6 + 2.4 * (dti - 0.3) + 1.6 * (utilisation - 0.4) + 9.0 * miss_rate + 0.6 * (loan_to_income - 1.0).max(0.0)
        - 0.35 * ((a.credit_history_months as f64 + 1.0) / 36.0).ln()
        - 0.25 * ((a.months_employed as f64 + 1.0) / 24.0).ln().max(-2.0)
        + employment
        + if a.age < 25 { 0.3 } else { 0.0 }
        - if a.has_mortgage { 0.2 } else { 0.0 }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// `n` applications, each labelled with `default`.
pub fn generate(rng: &mut Rng, n: usize) -> Vec<CreditApplication> {
    (0..n)
        .map(|i| {
            let stress = rng.normal();
            let age = (34.0 + 9.0 * rng.normal()).clamp(21.0, 70.0).round() as u32;
            let employment_type = if age < 25 && rng.bernoulli(0.35) {
                EmploymentType::Student
            } else if age >= 60 && rng.bernoulli(0.6) {
                EmploymentType::Retired
            } else {
                match rng.weighted(&[0.62, 0.14, 0.13, 0.06 + 0.03 * stress.max(0.0)]) {
                    0 => EmploymentType::Salaried,
                    1 => EmploymentType::SelfEmployed,
                    2 => EmploymentType::Business,
                    _ => EmploymentType::Unemployed,
                }
            };
            let education = match rng.weighted(&[0.2, 0.12, 0.45, 0.2, 0.03]) {
                0 => Education::HighSchool,
                1 => Education::Diploma,
                2 => Education::Graduate,
                3 => Education::Postgraduate,
                _ => Education::Doctorate,
            };
            let edu_boost = match education {
                Education::HighSchool => -0.3,
                Education::Diploma => -0.15,
                Education::Graduate => 0.0,
                Education::Postgraduate => 0.25,
                Education::Doctorate => 0.4,
            };
            let base: f64 = match employment_type {
                EmploymentType::Unemployed => 12_000.0,
                EmploymentType::Student => 10_000.0,
                EmploymentType::Retired => 30_000.0,
                _ => 55_000.0,
            };
            let monthly_income = (rng.lognormal(base.ln() + edu_boost, 0.55)).round().max(5_000.0);
            let working_years = age.saturating_sub(21);
            let months_employed = match employment_type {
                EmploymentType::Unemployed | EmploymentType::Student => 0,
                _ => rng.range(0, (working_years * 12).max(1) as usize + 1) as u32,
            };
            let credit_history_months =
                (rng.uniform(0.0, 1.0).powf(0.7) * (age.saturating_sub(18) * 12) as f64).round() as u32;
            let num_credit_accounts = (rng.poisson(1.0 + credit_history_months as f64 / 60.0) as u32).min(15);
            let has_mortgage = age > 27 && rng.bernoulli(0.22 + 0.1 * edu_boost);
            let has_car_loan = rng.bernoulli(0.18);
            let credit_limit = if num_credit_accounts == 0 {
                0.0
            } else {
                (monthly_income * rng.uniform(0.8, 3.5) * (num_credit_accounts as f64).sqrt() / 1000.0).round() * 1000.0
            };
            let utilisation = sigmoid(-0.6 + 1.1 * stress + 0.6 * rng.normal());
            let credit_used = (credit_limit * utilisation * rng.uniform(0.8, 1.25)).round();
            let dti = (sigmoid(-1.2 + 0.7 * stress + 0.5 * rng.normal())
                + if has_mortgage { 0.12 } else { 0.0 }
                + if has_car_loan { 0.06 } else { 0.0 })
            .min(1.2);
            let monthly_debt = (monthly_income * dti).round();
            let loan_amount = (monthly_income * rng.lognormal(2.0, 0.8) / 1000.0).round() * 1000.0;
            let total_payments = credit_history_months
                .min(12 * num_credit_accounts.max(1))
                .max(if num_credit_accounts > 0 { 1 } else { 0 });
            let miss_lambda = (total_payments as f64 * 0.02 * (0.9 * stress).exp()).max(0.0);
            let payments_missed = (rng.poisson(miss_lambda) as u32).min(total_payments);
            let mut app = CreditApplication {
                application_id: Some(format!("APP-{:06}", i + 1)),
                age,
                monthly_income,
                monthly_debt,
                credit_limit,
                credit_used,
                loan_amount,
                payments_missed,
                total_payments,
                months_employed,
                credit_history_months,
                num_credit_accounts,
                has_mortgage,
                has_car_loan,
                employment_type,
                education,
                default: None,
            };
            let p = sigmoid(default_logit(&app) + NOISE_SD * rng.normal());
            app.default = Some(rng.bernoulli(p));
            app
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_documented_mechanism() {
        let apps = generate(&mut Rng::new(11), 5000);
        let labels: Vec<bool> = apps.iter().map(|a| a.default == Some(true)).collect();
        let rate = labels.iter().filter(|&&l| l).count() as f64 / labels.len() as f64;
        assert!((0.1..0.35).contains(&rate), "default rate {rate}");
        let scores: Vec<f64> = apps.iter().map(default_logit).collect();
        let a = nivesh_core::stats::auc(&scores, &labels);
        assert!((0.75..0.95).contains(&a), "achievable AUC {a}");
        // more missed payments means more default, all else equal
        let mut x = apps[0].clone();
        x.total_payments = 40;
        x.payments_missed = 1;
        let lo = default_logit(&x);
        x.payments_missed = 5;
        assert!(default_logit(&x) > lo);
    }
}
