"""`make chaos`: the split deployment under faults and hostile input, audited from the harness's
own records (every acknowledged event and reservation), never from the gateway's word."""
