//! Device approvals. Arbitrary bytes as the device's JSON body (`v1::DeviceApproval`)
//! through the parser and the verifier: nothing unsigned may verify, and a parsed approval
//! survives its wire form unchanged. Then the same bytes as the fields of an approval the
//! device really signs: it must verify, for exactly its transaction and code.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_shared::approval::{
    Approval, ApprovalError, DeviceSigningKey, SignedApproval, sign_approval, verify_approval,
};
use tessera_shared::v1::{ApprovalDecision, DeviceApproval};

fuzz_target!(|data: &[u8]| {
    let Ok(key) = DeviceSigningKey::from_seed([7; 32]) else {
        return;
    };
    let public = key.public_key();

    if let Ok(wire) = serde_json::from_slice::<DeviceApproval>(data)
        && let Ok(signed) = SignedApproval::try_from(wire)
    {
        let a = signed.approval();
        let result = verify_approval(&public, &signed, a.txid(), a.code(), a.time(), 60);
        assert_eq!(
            result,
            Err(ApprovalError::BadSignature),
            "an approval nobody signed verified"
        );
        assert_eq!(
            SignedApproval::try_from(signed.to_wire()).as_ref(),
            Ok(&signed)
        );
    }

    // `txid|code|device_id`, the decision and time from the length and the first bytes.
    let text = String::from_utf8_lossy(data);
    let mut fields = text.splitn(3, '|');
    let (Some(txid), Some(code), Some(device_id)) = (fields.next(), fields.next(), fields.next())
    else {
        return;
    };
    let code = (!code.is_empty()).then_some(code);
    let decision = match data.len() % 3 {
        0 => ApprovalDecision::Approve,
        1 => ApprovalDecision::Deny,
        _ => ApprovalDecision::DenyFraud,
    };
    let time = data
        .iter()
        .take(8)
        .fold(0i64, |t, b| t.wrapping_mul(256).wrapping_add(i64::from(*b)));
    let Ok(approval) = Approval::new(txid, decision, code, time, device_id) else {
        return;
    };
    let signed = sign_approval(&key, &approval);
    let json = serde_json::to_vec(&signed.to_wire()).unwrap();
    let parsed =
        SignedApproval::try_from(serde_json::from_slice::<DeviceApproval>(&json).unwrap()).unwrap();
    assert_eq!(parsed, signed);
    let verified = verify_approval(&public, &parsed, txid, code, time, 60).unwrap();
    assert_eq!(
        (verified.txid.as_str(), verified.decision, verified.time),
        (txid, decision, time)
    );
    assert!(verify_approval(&public, &parsed, &format!("{txid}x"), code, time, 60).is_err());
});
