/* SPDX-License-Identifier: MIT */
/* Host/VMM side of kvmclock, freestanding: the clock state of a VM and of
 * its vCPUs, TSC synchronisation (KVM's 1-second matching rule), scaled,
 * catch-up and emulated TSC modes, publishing each vCPU's pvclock record and
 * the wall-clock record, and from the same master clock the VM's VMClock
 * page and Hyper-V reference TSC page; pause/resume with GUEST_STOPPED and
 * the VMClock disruption marker, and snapshot and restore with an explicit
 * freeze/advance policy and restore kind (snapshot/clone or live migration). The core reads no clock:
 * the VMM passes a host reading (struct vtime_vmm_now) to every call that
 * needs "now". One VM is driven by one thread at a time (the VMM's lock);
 * only vtime_vmm_vcpu_rdtsc() may run concurrently. Domain: host counter
 * values within 2^63 ticks, and 2^63 ns of VM time (292 years), of the
 * master reference, which every re-anchor (vtime_vmm_update_master(),
 * set_clock, resume, restore) moves to now, and (emulated mode) trapped
 * RDTSCs less than 2^63 guest cycles apart; counters and guest TSCs may
 * wrap past 2^64 (compared in serial order). See docs/vmm.md. */
#ifndef VTIME_VMM_H
#define VTIME_VMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vtime/export.h>
#include <vtime/hyperv.h>
#include <vtime/pvclock.h>
#include <vtime/scale.h>
#include <vtime/vmclock.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How the guest TSC relates to the host counter. */
enum vtime_vmm_tsc_mode {
	VTIME_VMM_TSC_AUTO = 0,  /* pick from the rates and hw_scaling (init only) */
	VTIME_VMM_TSC_NATIVE,    /* same rate (within tolerance): guest = host + offset */
	VTIME_VMM_TSC_SCALED,    /* hardware ratio: guest = ((host * ratio) >> N) + offset */
	VTIME_VMM_TSC_CATCHUP,   /* guest faster, no scaling: offset moved forward at updates */
	VTIME_VMM_TSC_EMULATED,  /* RDTSC trapped: guest TSC derived from kvmclock */
};

/* What guest time does over a pause or a save/restore (also the KVM shim's
 * restore). Values are stored in saved state: never renumber. */
enum vtime_resume_policy {
	VTIME_RESUME_FREEZE = 0,  /* continues from the value at pause/save */
	VTIME_RESUME_ADVANCE = 1, /* includes the real time that passed (host realtime) */
};

/* What a restore is, for the VMClock page (vtime_vmm_restore()). */
enum vtime_vmm_restore_kind {
	VTIME_VMM_RESTORE_SNAPSHOT = 0,  /* loaded from a snapshot, or a clone: generation counter and marker change */
	VTIME_VMM_RESTORE_MIGRATION = 1, /* live migration: the same VM runs on: only the marker changes */
};

/* One host reading, taken as close together as the VMM can. */
struct vtime_vmm_now {
	uint64_t host_tsc;    /* host counter */
	uint64_t host_ns;     /* host monotonic ns (KVM uses CLOCK_MONOTONIC_RAW) */
	uint64_t realtime_ns; /* host CLOCK_REALTIME ns (wall clock, advance policy) */
};

struct vtime_vmm_config {
	uint64_t host_hz;        /* host counter rate */
	uint64_t guest_hz;       /* virtual TSC rate; 0 = host_hz */
	enum vtime_vmm_tsc_mode mode;
	bool hw_scaling;         /* the CPU can scale the TSC (AUTO may pick SCALED) */
	unsigned frac_bits;      /* 48 (VMX) or 32 (SVM) for SCALED; 0 = 48 */
	uint32_t tolerance_ppm;  /* rates this close count as equal; 0 = 250 (KVM) */
	/* Must be zero (vtime_vmm_init: VTIME_EINVAL otherwise): a later version
	 * takes new settings from here, 0 meaning "default", so a caller that
	 * zero-initialises the struct keeps working (docs/abi.md). */
	uint64_t reserved[4];
};

struct vtime_vmm_vcpu;

struct vtime_vmm {
	uint64_t host_hz, guest_hz, ratio;
	uint32_t mode;
	unsigned frac_bits;
	struct vtime_scale host_to_ns;  /* host counter -> ns */
	struct vtime_scale guest_to_ns; /* published in the records */
	struct vtime_scale ns_to_guest; /* catch-up and emulated TSC */
	/* Master reference: kvmclock = master_ns + host_to_ns(host_tsc - master_tsc). */
	uint64_t master_tsc, master_ns;
	uint64_t master_emu; /* emulated mode: guest cycles (before offsets) at the master */
	/* TSC matching (KVM's rule), in host ns and guest cycles. */
	uint64_t last_tsc_write, last_tsc_ns, last_tsc_hz;
	uint64_t cur_tsc_offset, cur_tsc_write, cur_tsc_ns; /* cur_tsc_ns: kvmclock */
	uint32_t cur_gen;
	unsigned nr_in_gen;  /* vCPUs whose TSC was written in generation cur_gen */
	unsigned nr_vcpus;
	struct vtime_vmm_vcpu *vcpus; /* linked through vcpu->next */
	volatile uint64_t emu_last;   /* emulated mode: largest base handed out */
	bool paused;
	uint64_t pause_ns, restore_elapsed_ns;
	/* The VM's realtime view: realtime = rt_offset_ns + kvmclock (mod 2^64),
	 * set from the host's realtime at init, set_clock, resume, restore and
	 * vtime_vmm_vmclock_sync(). */
	uint64_t rt_offset_ns;
	/* VMClock page (NULL: none) and what the VMM said about its realtime. */
	volatile struct vtime_vmclock_abi *vmclock;
	struct vtime_vmclock_abi vmclock_body; /* status, leap, TAI offset, flags; errors below */
	uint64_t vmclock_err[4];       /* time max/est error ns, period max/est error ppb at the sync */
	uint64_t vmclock_sync_ns;      /* host_ns of the last vtime_vmm_vmclock_sync() with a status */
	uint64_t vmclock_disruption;   /* DISRUPTION_SOON / IMMINENT raised by the VMM */
	uint64_t vmclock_floor[2];     /* restore: marker and generation the guest saw */
	unsigned vmclock_events;       /* VTIME_VMCLOCK_EV_* for the next VMClock publish */
	bool vmclock_floor_pending;
	/* Hyper-V reference TSC page (NULL: not registered), partition-wide. */
	bool hv_valid;                 /* the page holds hv_scale/hv_offset under a valid sequence */
	uint32_t hv_seq;               /* the last valid sequence published (0: none) */
	volatile struct vtime_hv_tsc_page *hv_page;
	uint64_t hv_scale;
	int64_t hv_offset;
	uint64_t reserved[16]; /* private room to grow; the size stays (docs/abi.md) */
};

struct vtime_vmm_vcpu {
	struct vtime_vmm *vm;
	struct vtime_vmm_vcpu *next;
	uint64_t tsc_offset;          /* guest = base(host) + tsc_offset */
	uint64_t this_write, this_ns; /* generation reference (catch-up target) */
	uint32_t gen;
	bool written, stop_request;
	bool min_pending;             /* after restore: lift the record to min_version */
	uint32_t min_version;         /* ... at the next publish (once), if it is behind */
	volatile struct vtime_pvclock_vcpu_time_info *rec;
	uint64_t reserved[4];         /* private room to grow; the size stays (docs/abi.md) */
};

/* Sets up a VM whose kvmclock reads 0 at now (its realtime view: now's
 * realtime_ns there; no pages attached, VMClock status UNKNOWN without
 * error bounds). Returns 0, VTIME_EINVAL,
 * VTIME_ENOTSUP (SCALED asked without hw_scaling) or VTIME_ERANGE: the
 * scaling ratio is not representable, or the rate the records would carry
 * (guest_hz; the host rate in native mode) has a TSC-to-ns shift outside
 * [VTIME_PVCLOCK_SHIFT_MIN, VTIME_PVCLOCK_SHIFT_MAX], which readers reject
 * as corrupt: rates VTIME_PVCLOCK_HZ_MIN..VTIME_PVCLOCK_HZ_MAX publish. */
VTIME_API int vtime_vmm_init(struct vtime_vmm *vm, const struct vtime_vmm_config *cfg,
			     const struct vtime_vmm_now *now);

/* kvmclock at host counter value host_tsc (pure; vm initialised). */
VTIME_API uint64_t vtime_vmm_clock(const struct vtime_vmm *vm, uint64_t host_tsc);

/* KVM_SET_CLOCK: kvmclock reads ns at now (re-anchors the master reference).
 * The VM's realtime view does not step with it: it is re-synced to
 * now->realtime_ns. 0 or VTIME_EINVAL. */
VTIME_API int vtime_vmm_set_clock(struct vtime_vmm *vm, const struct vtime_vmm_now *now, uint64_t ns);

/* Re-anchors the master reference at now without a step (continuity), so
 * the counter deltas readers scale stay short. The VM clock keeps running at
 * the KVM-exact host scale; it is not re-synced to host_ns (that would step
 * it), so it may drift from the host's ns by the scale's rounding (ppb).
 * 0 or VTIME_EINVAL. */
VTIME_API int vtime_vmm_update_master(struct vtime_vmm *vm, const struct vtime_vmm_now *now);

/* Adds vcpu to vm (no record yet, TSC unwritten). */
VTIME_API int vtime_vmm_vcpu_init(struct vtime_vmm *vm, struct vtime_vmm_vcpu *vcpu);

/* Where the guest registered this vCPU's record (host pointer), NULL: off.
 * 0 or VTIME_EINVAL. */
VTIME_API int vtime_vmm_vcpu_set_record(struct vtime_vmm_vcpu *vcpu,
					volatile struct vtime_pvclock_vcpu_time_info *rec);

/* A write of the guest TSC (guest WRMSR or host-initiated). KVM's rule: a
 * value within +-1 s (guest cycles) of the previous write extrapolated to
 * now, or a host-initiated 0, synchronises: the vCPU reuses the current
 * offset. Returns 0 with *synced (optional) true if synchronised, false if
 * it started a new generation; or VTIME_EINVAL. */
VTIME_API int vtime_vmm_vcpu_write_tsc(struct vtime_vmm_vcpu *vcpu, uint64_t value,
				       const struct vtime_vmm_now *now, bool host_initiated, bool *synced);

/* The hypervisor chose this vCPU's offset (guest = base(host) + offset) and
 * will not take another: adopt it exactly, without the 1-second rule. vCPUs
 * adopting the current generation's offset join it. Returns 0 with *synced
 * (optional) true if it joined, false if a new generation started; or
 * VTIME_EINVAL. */
VTIME_API int vtime_vmm_vcpu_adopt_offset(struct vtime_vmm_vcpu *vcpu, uint64_t offset,
					  const struct vtime_vmm_now *now, bool *synced);

/* Guest TSC at host counter value host_tsc (emulated mode: without the
 * cross-vCPU clamp). These three are hot paths: vcpu/vm initialised, no
 * checks. */
VTIME_API uint64_t vtime_vmm_vcpu_tsc(const struct vtime_vmm_vcpu *vcpu, uint64_t host_tsc);

/* What a trapped RDTSC returns: in emulated mode never below a value any
 * vCPU of the VM got before (same offset); thread-safe. */
VTIME_API uint64_t vtime_vmm_vcpu_rdtsc(struct vtime_vmm_vcpu *vcpu, uint64_t host_tsc);

/* true when every vCPU shares one TSC generation and the mode allows the
 * master clock: the records carry TSC_STABLE. O(1): the VM counts the vCPUs
 * written in the current generation. */
VTIME_API bool vtime_vmm_stable(const struct vtime_vmm *vm);

/* Computes vcpu's record body for now (catch-up: moves the offset forward
 * first). Returns 0 or VTIME_ESTATE (TSC never written). */
VTIME_API int vtime_vmm_vcpu_compute(struct vtime_vmm_vcpu *vcpu, const struct vtime_vmm_now *now,
				     struct vtime_pvclock_vcpu_time_info *body);

/* Computes and publishes vcpu's record (with a pending GUEST_STOPPED).
 * Returns 0 with *version (optional) the new even version, VTIME_ENODEV (no
 * record), VTIME_ESTATE or VTIME_EINVAL. */
VTIME_API int vtime_vmm_vcpu_publish(struct vtime_vmm_vcpu *vcpu, const struct vtime_vmm_now *now,
				     uint32_t *version);

/* Publishes every vCPU that has a record, at a constant cost per record
 * (the parts every record shares are computed once), then the VM's VMClock
 * and Hyper-V pages when attached (once per VM). Returns 0 or the first
 * error. */
VTIME_API int vtime_vmm_publish_all(struct vtime_vmm *vm, const struct vtime_vmm_now *now);

/* Wall clock at kvmclock 0 (realtime - kvmclock, split), and its writer
 * (*version optional). 0 or VTIME_EINVAL. */
VTIME_API int vtime_vmm_wall(const struct vtime_vmm *vm, const struct vtime_vmm_now *now, uint32_t *sec,
			     uint32_t *nsec);
VTIME_API int vtime_vmm_wall_publish(const struct vtime_vmm *vm, volatile struct vtime_pvclock_wall_clock *wc,
				     const struct vtime_vmm_now *now, uint32_t *version);

/* Pause: vCPUs are stopped by the VMM; notes kvmclock. Resume: FREEZE makes
 * kvmclock continue from the pause (the guest TSC keeps running, like
 * KVM_SET_CLOCK: no TSC offset changes), ADVANCE leaves kvmclock running;
 * both request GUEST_STOPPED on every vCPU, re-sync the VM's realtime view
 * to the host's and change the VMClock disruption marker (once, at the next
 * publish; the generation counter stays). Publish before running the vCPUs
 * again. VTIME_ESTATE if not paused / already paused. */
VTIME_API int vtime_vmm_pause(struct vtime_vmm *vm, const struct vtime_vmm_now *now);
VTIME_API int vtime_vmm_resume(struct vtime_vmm *vm, const struct vtime_vmm_now *now, enum vtime_resume_policy policy);

/* Request GUEST_STOPPED on the next publish (what KVM_KVMCLOCK_CTRL does).
 * 0 or VTIME_EINVAL. */
VTIME_API int vtime_vmm_vcpu_request_stopped(struct vtime_vmm_vcpu *vcpu);

/* ---- the VM's VMClock page (docs/vmm.md) ----
 * One page per VM, published from the master clock: counter X86_TSC (the
 * guest TSC every vCPU shares), the records' own rate as the period, time
 * UTC = the VM's realtime view (rt_offset_ns + kvmclock), so that at every
 * guest TSC value C
 *   |VMClock time(C) - (rt_offset_ns + kvmclock record time(C))| <= 3 ns
 * (the two floors and the records' pre-shift; -1..+1 ns ahead of the
 * reference and -2..0 behind seen over counters 2^40 ticks either side). When
 * the vCPUs do not share one TSC (no TSC_STABLE in the records: catch-up,
 * or a generation not every vCPU joined) the page says UNRELIABLE. The
 * disruption marker changes exactly once per resume and per restore (at the
 * first VMClock publish after it); the generation counter once per
 * snapshot restore or clone, never on pause or live migration. */

/* What the VMM knows about its realtime (host CLOCK_REALTIME) at a sync. */
struct vtime_vmm_vmclock_status {
	uint64_t time_maxerror_ns;    /* VTIME_VMCLOCK_UNKNOWN: none */
	uint64_t time_esterror_ns;    /* VTIME_VMCLOCK_UNKNOWN: none */
	uint64_t period_maxerror_ppb; /* of kvmclock's rate against true time; VTIME_VMCLOCK_UNKNOWN: none */
	uint64_t period_esterror_ppb; /* VTIME_VMCLOCK_UNKNOWN: none */
	uint64_t flags;               /* VTIME_VMCLOCK_FLAG_TAI_OFFSET_VALID, _NOTIFICATION_PRESENT */
	int16_t tai_offset_sec;       /* with TAI_OFFSET_VALID */
	uint8_t clock_status;         /* VTIME_VMCLOCK_STATUS_*; UNRELIABLE is forced when unstable */
	uint8_t leap_indicator;       /* VTIME_VMCLOCK_LEAP_* */
	uint8_t pad[4];               /* 0 */
};

/* Attaches the VM's VMClock page (host pointer to the guest's region of size
 * bytes; NULL detaches). A region without a VMClock header is laid out
 * (vtime_vmclock_init: X86_TSC, UTC); one that holds a page already (guest
 * memory carried over a restore) is kept, so its markers continue. Nothing
 * is published until vtime_vmm_vmclock_publish() or vtime_vmm_publish_all().
 * Returns 0, VTIME_EINVAL (vm NULL, size below VTIME_VMCLOCK_ABI_SIZE, a
 * page not 8-byte aligned) or VTIME_EPROTO (a page laid out for another
 * version, counter or time scale). */
VTIME_API int vtime_vmm_vmclock_set_page(struct vtime_vmm *vm, volatile struct vtime_vmclock_abi *page,
					 uint32_t size);

/* Re-syncs the VM's realtime view to now->realtime_ns (a step of what
 * kvmclock drifted from host realtime since the last sync, either way; not a
 * disruption) and, if status is not NULL, records what the VMM knows about
 * its realtime at now: from then on the page's time errors are the stated
 * ones grown by the period error rate over the host ns since (without a
 * period error: the stated ones). Takes effect at the next publish. Returns
 * 0 or VTIME_EINVAL (NULL vm or now; a status above UNRELIABLE, a leap
 * indicator above POST_NEG, flags other than TAI_OFFSET_VALID and
 * NOTIFICATION_PRESENT, a period error above 10^9 ppb other than
 * VTIME_VMCLOCK_UNKNOWN, pad not 0). */
VTIME_API int vtime_vmm_vmclock_sync(struct vtime_vmm *vm, const struct vtime_vmm_now *now,
				     const struct vtime_vmm_vmclock_status *status);

/* Raises VTIME_VMCLOCK_FLAG_DISRUPTION_SOON and/or _IMMINENT (planned
 * maintenance: about a day / an hour ahead), or clears them (0), from the
 * next publish on. They stay until cleared (they are not saved: a restored
 * VM starts without them). 0 or VTIME_EINVAL (other bits). */
VTIME_API int vtime_vmm_vmclock_set_disruption(struct vtime_vmm *vm, uint64_t flags);

/* Publishes the VMClock page for now (pending marker/generation changes
 * included). Returns 0 with *seq (optional) the new even seq_count,
 * VTIME_ENODEV (no page) or VTIME_EINVAL. */
VTIME_API int vtime_vmm_vmclock_publish(struct vtime_vmm *vm, const struct vtime_vmm_now *now, uint32_t *seq);

/* ---- the VM's Hyper-V reference TSC page (docs/vmm.md) ----
 * Partition-wide, as in the TLFS: computed from the VM's kvmclock record
 * with KVM's rules (vtime_hv_tsc_page_from_pvclock(), bit for bit equal to
 * that function applied to any vCPU's record), or invalid (sequence 0) where
 * KVM publishes none: records without TSC_STABLE. */

/* The guest enabled (page != NULL) or disabled (NULL) its reference TSC
 * page (HV_X64_MSR_REFERENCE_TSC; the VMM maps the page frame). Nothing is
 * published until vtime_vmm_hv_publish() or vtime_vmm_publish_all().
 * 0 or VTIME_EINVAL (vm NULL, page not 8-byte aligned). */
VTIME_API int vtime_vmm_hv_set_page(struct vtime_vmm *vm, volatile struct vtime_hv_tsc_page *page);

/* Publishes (or invalidates) the page for now. Returns 0 with *sequence
 * (optional) the sequence now on the page (0: invalid), VTIME_ENODEV (no
 * page) or VTIME_EINVAL. */
VTIME_API int vtime_vmm_hv_publish(struct vtime_vmm *vm, const struct vtime_vmm_now *now, uint32_t *sequence);

/* What the guest reads from HV_X64_MSR_TIME_REF_COUNT at host counter
 * host_tsc (100 ns units since the VM was created), as KVM computes it:
 * through the published page's scale and offset (at the TSC of the vCPUs'
 * shared generation) while it is valid, else kvmclock / 100. Pure; vm
 * initialised. */
VTIME_API uint64_t vtime_vmm_hv_ref_count(const struct vtime_vmm *vm, uint64_t host_tsc);

/* Saved state (snapshot, migration, clone), in vtime's one saved-state
 * pattern (docs/architecture.md): a VM part and one part per vCPU, each a
 * host-order struct with a fixed little-endian byte image (16-byte header:
 * magic, version, size; then the fields in struct order); decode checks the
 * header, restore checks every field. */
#define VTIME_VMM_STATE_MAGIC 0x4d565456u      /* "VTVM" */
#define VTIME_VMM_STATE_VERSION 2u
#define VTIME_VMM_STATE_BYTES 80u    /* version 2; decode also reads version 1: */
#define VTIME_VMM_STATE_V1_BYTES 56u /* without the VMClock / Hyper-V fields (0 then) */
#define VTIME_VMM_VCPU_STATE_MAGIC 0x43565456u /* "VTVC" */
#define VTIME_VMM_VCPU_STATE_VERSION 1u
#define VTIME_VMM_VCPU_STATE_BYTES 32u

struct vtime_vmm_state {
	uint64_t kvmclock_ns; /* the VM clock at the save */
	uint64_t realtime_ns; /* host CLOCK_REALTIME at the save (ADVANCE restores) */
	uint64_t guest_hz;    /* virtual TSC rate: a restore needs the same */
	uint64_t host_hz;     /* the saving host's counter rate (information) */
	uint32_t nr_vcpus;
	uint32_t mode;        /* enum vtime_vmm_tsc_mode the VM ran in (information) */
	/* version 2 (0 from a version 1 image) */
	uint64_t vmclock_marker;     /* VMClock disruption marker the guest has seen */
	uint64_t vmclock_generation; /* VMClock generation counter the guest has seen */
	uint32_t hv_sequence;        /* last valid Hyper-V page sequence (0: none) */
	uint32_t flags;              /* VTIME_VMM_STATE_* */
	/* Not in the image. Zero: save and decode write zeros; encode refuses
	 * anything else (VTIME_EINVAL), restore too (VTIME_EPROTO), so a field a
	 * later version defines here is never dropped silently. */
	uint64_t reserved[4];
};

#define VTIME_VMM_STATE_VMCLOCK 0x1u /* the VM had a VMClock page */
#define VTIME_VMM_STATE_HV 0x2u      /* the guest had enabled its Hyper-V reference TSC page */

#define VTIME_VMM_VCPU_STATE_RECORD 0x1u /* the vCPU had a registered record */

struct vtime_vmm_vcpu_state {
	uint64_t guest_tsc; /* the vCPU's TSC at the save */
	uint32_t version;   /* record version in guest memory (0: no record) */
	uint32_t flags;     /* VTIME_VMM_VCPU_STATE_* */
	uint64_t reserved[2]; /* zero, as in struct vtime_vmm_state */
};

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(struct vtime_vmm_config) == 64, "ABI: grow into reserved");
_Static_assert(sizeof(struct vtime_vmm_state) == 96, "ABI: grow into reserved");
_Static_assert(sizeof(struct vtime_vmm_vcpu_state) == 32, "ABI: grow into reserved");
#endif

VTIME_API int vtime_vmm_save(const struct vtime_vmm *vm, const struct vtime_vmm_now *now,
			     struct vtime_vmm_state *st);
VTIME_API int vtime_vmm_vcpu_save(const struct vtime_vmm_vcpu *vcpu, const struct vtime_vmm_now *now,
				  struct vtime_vmm_vcpu_state *st);

/* Restore into vm freshly set up with vtime_vmm_init() on this host (its
 * host_hz may differ from the saved host's; guest_hz must equal the saved
 * one, VTIME_EINVAL otherwise, also for an unknown policy or kind;
 * VTIME_EPROTO for a state that cannot have been saved: guest_hz or host_hz
 * 0, an unknown mode or flag, a VMClock marker or generation without its
 * flag, a Hyper-V sequence of 0xFFFFFFFF). FREEZE: kvmclock
 * continues from the saved value; ADVANCE: it adds max(0, now.realtime_ns -
 * st.realtime_ns). The VM's realtime view re-syncs to now.realtime_ns. kind
 * says what the VMClock page tells the guest at the first publish: SNAPSHOT
 * (a snapshot restore or a clone) changes the generation counter and the
 * disruption marker once, MIGRATION (live migration) only the marker; both
 * continue above the saved values even onto a page that lost them, and the
 * Hyper-V sequence continues above the saved one. Then restore each vCPU
 * (after vtime_vmm_vcpu_init()): its TSC continues the same way, versions
 * continue above the saved one (the first publish lies 2 to 2^31 - 1 after
 * it, whatever the record memory holds; from then on the record carries
 * them), GUEST_STOPPED is requested; *synced (optional) as for
 * vtime_vmm_vcpu_write_tsc() (true: joined the other vCPUs' TSC). A vCPU
 * state with unknown flags, or a record version without the record flag,
 * is VTIME_EPROTO. */
VTIME_API int vtime_vmm_restore(struct vtime_vmm *vm, const struct vtime_vmm_state *st,
				const struct vtime_vmm_now *now, enum vtime_resume_policy policy,
				enum vtime_vmm_restore_kind kind);
VTIME_API int vtime_vmm_vcpu_restore(struct vtime_vmm_vcpu *vcpu, const struct vtime_vmm_vcpu_state *st,
				     const struct vtime_vmm_now *now, bool *synced);

/* The byte images: encode writes the current version and needs len >= the
 * *_BYTES (else VTIME_ERANGE); decode reads every version up to the current
 * one (the VM state's version 1, 56 bytes, gives the version 2 fields 0),
 * VTIME_EPROTO for a malformed or truncated image and VTIME_ENOTSUP for a
 * later version. */
VTIME_API int vtime_vmm_state_encode(const struct vtime_vmm_state *st, void *buf, size_t len);
VTIME_API int vtime_vmm_state_decode(struct vtime_vmm_state *st, const void *buf, size_t len);
VTIME_API int vtime_vmm_vcpu_state_encode(const struct vtime_vmm_vcpu_state *st, void *buf, size_t len);
VTIME_API int vtime_vmm_vcpu_state_decode(struct vtime_vmm_vcpu_state *st, const void *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
