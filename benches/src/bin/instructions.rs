//! Runs N calls of one kind, for instruction counts under callgrind, which do not move with
//! machine noise: `instructions <handler|idempotent|tight|same|naive|fingerprint> <first|replay> <N>`
//! (`fingerprint` is that step alone, the same for both kinds). The cost of one
//! call is the difference of two runs (N = 2000 and N = 1000) divided by 1000, so setup
//! cancels out:
//!
//! ```sh
//! cargo build --release -p idempotent-benches --bin instructions
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.%p target/release/instructions idempotent first 2000
//! ```

use std::hint::black_box;

use idempotent_benches::naive::Naive;
use idempotent_benches::tight::{Postcard, SameEncodings, Tight};
use idempotent_benches::{handler, sample_request, Service};
use idempotent_runtime::fingerprint::Fingerprinter;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(who), Some(kind), Some(count)) = (
        args.first(),
        args.get(1),
        args.get(2).and_then(|n| n.parse::<usize>().ok()),
    ) else {
        eprintln!(
            "usage: instructions <handler|idempotent|tight|same|naive|fingerprint> <first|replay> <N>"
        );
        std::process::exit(2);
    };
    let tokens: Vec<String> = (0..count)
        .map(|i| format!("5d0c7a5e-1c4b-4f7e-9a55-{i:012}"))
        .collect();
    let replay = kind == "replay";
    let token = |i: usize| if replay { &tokens[0] } else { &tokens[i] };
    let request = sample_request();
    let service = Service::default();
    let (tight, naive) = (Tight::<Postcard>::default(), Naive::default());
    let same = Tight::<SameEncodings>::default();
    let call = |i: usize| match who.as_str() {
        "handler" => drop(black_box((handler(request.clone()), token(i)))),
        "idempotent" => drop(black_box(service.create(request.clone(), token(i)))),
        "tight" => drop(black_box(tight.call(request.clone(), token(i), handler))),
        "same" => drop(black_box(same.call(request.clone(), token(i), handler))),
        "fingerprint" => {
            let mut fingerprinter = Fingerprinter::new();
            fingerprinter.param("request", black_box(&request));
            drop(black_box(fingerprinter.finish()));
        }
        _ => drop(black_box(naive.call(request.clone(), token(i), handler))),
    };
    if replay {
        call(0);
    }
    for i in 0..count {
        call(i);
    }
}
