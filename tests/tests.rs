//! pslwarden's integration tests: one test binary (fast links), one module per area.
//! Every test talks to `sfsim` over real HTTP on loopback.

mod support;

mod apply;
mod approvals;
mod cli;
mod client;
mod daemon;
mod doctor;
mod html;
mod inert;
mod init;
mod limits;
mod metrics;
mod money;
mod natterbox;
mod next;
mod paging;
mod progress;
mod retry;
mod run_pages;
mod scan;
mod sfcli;
mod sim;
mod status;
mod usage;
mod window;
