//! The bench's report as a table, and its CPU checked against a budget.

use std::path::PathBuf;

use super::cpu::{Budget, CommandCpu};
use super::{run_bench, Launch, Report};

/// `xinfang bench`'s options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Small volumes (under 3 minutes; what CI runs).
    #[arg(long)]
    quick: bool,
    /// Also write the results as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Fail when CPU per command exceeds this budget (CI: .ci/bench-budget.json).
    #[arg(long)]
    budget: Option<PathBuf>,
}

/// Run the bench as `args` ask: its report, and whether it kept within the budget (if one was
/// given; read before the run, so a bad file fails at once).
pub async fn run_cli(
    launch: &dyn Launch,
    args: Args,
) -> anyhow::Result<(Report, anyhow::Result<()>)> {
    let budget = args.budget.map(|b| Budget::load(&b)).transpose()?;
    let report = run_bench(launch, args.quick, args.json).await?;
    let verdict = budget.map_or(Ok(()), |b| report.check_budget(&b));
    Ok((report, verdict))
}

impl Report {
    pub fn table(&self) -> String {
        let mut out = format!(
            "xinfang bench ({} mode, {} events in the log)\n{}\n\n",
            self.mode, self.events, self.machine
        );
        out.push_str(&format!(
            "{:<34} {:>14} {:<11} {:>7}  {}\n",
            "measure", "value", "unit", "ratio", "target"
        ));
        for r in &self.results {
            out.push_str(&format!(
                "{:<34} {:>14.2} {:<11} {:>7}  {}\n",
                r.name,
                r.value,
                r.unit,
                r.ratio.map(|x| format!("{x:.3}")).unwrap_or_default(),
                r.target.clone().unwrap_or_default(),
            ));
        }
        for phase in &self.cpu {
            out.push_str(&format!(
                "\nCPU per command, {} phase ({} commands), microseconds:\n",
                phase.phase, phase.commands
            ));
            let total: f64 = phase.per_command_us.values().sum();
            for (name, us) in &phase.per_command_us {
                out.push_str(&format!("  {name:<22} {us:>8.1}\n"));
            }
            out.push_str(&format!("  {:<22} {total:>8.1}\n", "total"));
        }
        out
    }
}

impl Report {
    /// Whether the command paths' CPU stays within `budget` (CI); why not, where it does not.
    pub fn check_budget(&self, budget: &Budget) -> anyhow::Result<()> {
        let Some(cpu) = CommandCpu::of(&self.cpu) else {
            anyhow::bail!("the report has no raw, http and inbox CPU phases to check");
        };
        cpu.check(budget)
            .map_err(|over| anyhow::anyhow!("over the CPU budget: {}", over.join("; ")))
    }
}
