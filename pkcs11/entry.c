/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The module's entry: the function lists (3.0 and 2.40), the interface list, and the only
 * three exported symbols (C_GetFunctionList, C_GetInterfaceList, C_GetInterface; pinned by
 * vnpki-pkcs11.map). Functions the token has no use for (encryption, digests, wrapping,
 * derivation, the 3.0 message functions) check the session and return
 * CKR_FUNCTION_NOT_SUPPORTED. */
#include <string.h>

#include "p11.h"
#include "compiler.h"
#include "log.h"

/* Session-checked "not supported". */
CK_RV vnp_unsupported_session(const char *fn, CK_SESSION_HANDLE hSession)
{
	struct vnp_session *s;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	rv = vnp_session_get_locked(hSession, &s, NULL, NULL);
	if (rv == CKR_OK)
		rv = CKR_FUNCTION_NOT_SUPPORTED;
	vnp_leave(rv);
out:
	vnp_trace(fn, rv, "hSession=%lu", (unsigned long)hSession);
	return rv;
}

static CK_RV ns_GetOperationState(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pOperationState, CK_ULONG_PTR pulOperationStateLen)
{
	(void)pOperationState;
	(void)pulOperationStateLen;
	return vnp_unsupported_session("C_GetOperationState", hSession);
}

static CK_RV ns_SetOperationState(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pOperationState, CK_ULONG ulOperationStateLen, CK_OBJECT_HANDLE hEncryptionKey, CK_OBJECT_HANDLE hAuthenticationKey)
{
	(void)pOperationState;
	(void)ulOperationStateLen;
	(void)hEncryptionKey;
	(void)hAuthenticationKey;
	return vnp_unsupported_session("C_SetOperationState", hSession);
}

static CK_RV ns_EncryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	(void)pMechanism;
	(void)hKey;
	return vnp_unsupported_session("C_EncryptInit", hSession);
}

static CK_RV ns_Encrypt(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pEncryptedData, CK_ULONG_PTR pulEncryptedDataLen)
{
	(void)pData;
	(void)ulDataLen;
	(void)pEncryptedData;
	(void)pulEncryptedDataLen;
	return vnp_unsupported_session("C_Encrypt", hSession);
}

static CK_RV ns_EncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen, CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen)
{
	(void)pPart;
	(void)ulPartLen;
	(void)pEncryptedPart;
	(void)pulEncryptedPartLen;
	return vnp_unsupported_session("C_EncryptUpdate", hSession);
}

static CK_RV ns_EncryptFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastEncryptedPart, CK_ULONG_PTR pulLastEncryptedPartLen)
{
	(void)pLastEncryptedPart;
	(void)pulLastEncryptedPartLen;
	return vnp_unsupported_session("C_EncryptFinal", hSession);
}

static CK_RV ns_DecryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	(void)pMechanism;
	(void)hKey;
	return vnp_unsupported_session("C_DecryptInit", hSession);
}

static CK_RV ns_Decrypt(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedData, CK_ULONG ulEncryptedDataLen, CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen)
{
	(void)pEncryptedData;
	(void)ulEncryptedDataLen;
	(void)pData;
	(void)pulDataLen;
	return vnp_unsupported_session("C_Decrypt", hSession);
}

static CK_RV ns_DecryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart, CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen)
{
	(void)pEncryptedPart;
	(void)ulEncryptedPartLen;
	(void)pPart;
	(void)pulPartLen;
	return vnp_unsupported_session("C_DecryptUpdate", hSession);
}

static CK_RV ns_DecryptFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastPart, CK_ULONG_PTR pulLastPartLen)
{
	(void)pLastPart;
	(void)pulLastPartLen;
	return vnp_unsupported_session("C_DecryptFinal", hSession);
}

static CK_RV ns_DigestInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism)
{
	(void)pMechanism;
	return vnp_unsupported_session("C_DigestInit", hSession);
}

static CK_RV ns_Digest(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen)
{
	(void)pData;
	(void)ulDataLen;
	(void)pDigest;
	(void)pulDigestLen;
	return vnp_unsupported_session("C_Digest", hSession);
}

static CK_RV ns_DigestUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
	(void)pPart;
	(void)ulPartLen;
	return vnp_unsupported_session("C_DigestUpdate", hSession);
}

static CK_RV ns_DigestKey(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hKey)
{
	(void)hKey;
	return vnp_unsupported_session("C_DigestKey", hSession);
}

static CK_RV ns_DigestFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen)
{
	(void)pDigest;
	(void)pulDigestLen;
	return vnp_unsupported_session("C_DigestFinal", hSession);
}

static CK_RV ns_SignRecoverInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	(void)pMechanism;
	(void)hKey;
	return vnp_unsupported_session("C_SignRecoverInit", hSession);
}

static CK_RV ns_SignRecover(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	(void)pData;
	(void)ulDataLen;
	(void)pSignature;
	(void)pulSignatureLen;
	return vnp_unsupported_session("C_SignRecover", hSession);
}

static CK_RV ns_VerifyRecoverInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	(void)pMechanism;
	(void)hKey;
	return vnp_unsupported_session("C_VerifyRecoverInit", hSession);
}

static CK_RV ns_VerifyRecover(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen, CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen)
{
	(void)pSignature;
	(void)ulSignatureLen;
	(void)pData;
	(void)pulDataLen;
	return vnp_unsupported_session("C_VerifyRecover", hSession);
}

static CK_RV ns_DigestEncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen, CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen)
{
	(void)pPart;
	(void)ulPartLen;
	(void)pEncryptedPart;
	(void)pulEncryptedPartLen;
	return vnp_unsupported_session("C_DigestEncryptUpdate", hSession);
}

static CK_RV ns_DecryptDigestUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart, CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen)
{
	(void)pEncryptedPart;
	(void)ulEncryptedPartLen;
	(void)pPart;
	(void)pulPartLen;
	return vnp_unsupported_session("C_DecryptDigestUpdate", hSession);
}

static CK_RV ns_SignEncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen, CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen)
{
	(void)pPart;
	(void)ulPartLen;
	(void)pEncryptedPart;
	(void)pulEncryptedPartLen;
	return vnp_unsupported_session("C_SignEncryptUpdate", hSession);
}

static CK_RV ns_DecryptVerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart, CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen)
{
	(void)pEncryptedPart;
	(void)ulEncryptedPartLen;
	(void)pPart;
	(void)pulPartLen;
	return vnp_unsupported_session("C_DecryptVerifyUpdate", hSession);
}

static CK_RV ns_GenerateKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phKey)
{
	(void)pMechanism;
	(void)pTemplate;
	(void)ulCount;
	(void)phKey;
	return vnp_unsupported_session("C_GenerateKey", hSession);
}

static CK_RV ns_WrapKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hWrappingKey, CK_OBJECT_HANDLE hKey, CK_BYTE_PTR pWrappedKey, CK_ULONG_PTR pulWrappedKeyLen)
{
	(void)pMechanism;
	(void)hWrappingKey;
	(void)hKey;
	(void)pWrappedKey;
	(void)pulWrappedKeyLen;
	return vnp_unsupported_session("C_WrapKey", hSession);
}

static CK_RV ns_UnwrapKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hUnwrappingKey, CK_BYTE_PTR pWrappedKey, CK_ULONG ulWrappedKeyLen, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey)
{
	(void)pMechanism;
	(void)hUnwrappingKey;
	(void)pWrappedKey;
	(void)ulWrappedKeyLen;
	(void)pTemplate;
	(void)ulAttributeCount;
	(void)phKey;
	return vnp_unsupported_session("C_UnwrapKey", hSession);
}

static CK_RV ns_DeriveKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hBaseKey, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey)
{
	(void)pMechanism;
	(void)hBaseKey;
	(void)pTemplate;
	(void)ulAttributeCount;
	(void)phKey;
	return vnp_unsupported_session("C_DeriveKey", hSession);
}

static CK_RV ns_MessageEncryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	(void)pMechanism;
	(void)hKey;
	return vnp_unsupported_session("C_MessageEncryptInit", hSession);
}

static CK_RV ns_EncryptMessage(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen, CK_BYTE_PTR pAssociatedData, CK_ULONG ulAssociatedDataLen, CK_BYTE_PTR pPlaintext, CK_ULONG ulPlaintextLen, CK_BYTE_PTR pCiphertext, CK_ULONG_PTR pulCiphertextLen)
{
	(void)pParameter;
	(void)ulParameterLen;
	(void)pAssociatedData;
	(void)ulAssociatedDataLen;
	(void)pPlaintext;
	(void)ulPlaintextLen;
	(void)pCiphertext;
	(void)pulCiphertextLen;
	return vnp_unsupported_session("C_EncryptMessage", hSession);
}

static CK_RV ns_EncryptMessageBegin(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen, CK_BYTE_PTR pAssociatedData, CK_ULONG ulAssociatedDataLen)
{
	(void)pParameter;
	(void)ulParameterLen;
	(void)pAssociatedData;
	(void)ulAssociatedDataLen;
	return vnp_unsupported_session("C_EncryptMessageBegin", hSession);
}

static CK_RV ns_EncryptMessageNext(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen, CK_BYTE_PTR pPlaintextPart, CK_ULONG ulPlaintextPartLen, CK_BYTE_PTR pCiphertextPart, CK_ULONG_PTR pulCiphertextPartLen, CK_FLAGS flags)
{
	(void)pParameter;
	(void)ulParameterLen;
	(void)pPlaintextPart;
	(void)ulPlaintextPartLen;
	(void)pCiphertextPart;
	(void)pulCiphertextPartLen;
	(void)flags;
	return vnp_unsupported_session("C_EncryptMessageNext", hSession);
}

static CK_RV ns_MessageEncryptFinal(CK_SESSION_HANDLE hSession)
{
	return vnp_unsupported_session("C_MessageEncryptFinal", hSession);
}

static CK_RV ns_MessageDecryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	(void)pMechanism;
	(void)hKey;
	return vnp_unsupported_session("C_MessageDecryptInit", hSession);
}

static CK_RV ns_DecryptMessage(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen, CK_BYTE_PTR pAssociatedData, CK_ULONG ulAssociatedDataLen, CK_BYTE_PTR pCiphertext, CK_ULONG ulCiphertextLen, CK_BYTE_PTR pPlaintext, CK_ULONG_PTR pulPlaintextLen)
{
	(void)pParameter;
	(void)ulParameterLen;
	(void)pAssociatedData;
	(void)ulAssociatedDataLen;
	(void)pCiphertext;
	(void)ulCiphertextLen;
	(void)pPlaintext;
	(void)pulPlaintextLen;
	return vnp_unsupported_session("C_DecryptMessage", hSession);
}

static CK_RV ns_DecryptMessageBegin(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen, CK_BYTE_PTR pAssociatedData, CK_ULONG ulAssociatedDataLen)
{
	(void)pParameter;
	(void)ulParameterLen;
	(void)pAssociatedData;
	(void)ulAssociatedDataLen;
	return vnp_unsupported_session("C_DecryptMessageBegin", hSession);
}

static CK_RV ns_DecryptMessageNext(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen, CK_BYTE_PTR pCiphertextPart, CK_ULONG ulCiphertextPartLen, CK_BYTE_PTR pPlaintextPart, CK_ULONG_PTR pulPlaintextPartLen, CK_FLAGS flags)
{
	(void)pParameter;
	(void)ulParameterLen;
	(void)pCiphertextPart;
	(void)ulCiphertextPartLen;
	(void)pPlaintextPart;
	(void)pulPlaintextPartLen;
	(void)flags;
	return vnp_unsupported_session("C_DecryptMessageNext", hSession);
}

static CK_RV ns_MessageDecryptFinal(CK_SESSION_HANDLE hSession)
{
	return vnp_unsupported_session("C_MessageDecryptFinal", hSession);
}

static CK_RV ns_MessageSignInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	(void)pMechanism;
	(void)hKey;
	return vnp_unsupported_session("C_MessageSignInit", hSession);
}

static CK_RV ns_SignMessage(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	(void)pParameter;
	(void)ulParameterLen;
	(void)pData;
	(void)ulDataLen;
	(void)pSignature;
	(void)pulSignatureLen;
	return vnp_unsupported_session("C_SignMessage", hSession);
}

static CK_RV ns_SignMessageBegin(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen)
{
	(void)pParameter;
	(void)ulParameterLen;
	return vnp_unsupported_session("C_SignMessageBegin", hSession);
}

static CK_RV ns_SignMessageNext(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	(void)pParameter;
	(void)ulParameterLen;
	(void)pData;
	(void)ulDataLen;
	(void)pSignature;
	(void)pulSignatureLen;
	return vnp_unsupported_session("C_SignMessageNext", hSession);
}

static CK_RV ns_MessageSignFinal(CK_SESSION_HANDLE hSession)
{
	return vnp_unsupported_session("C_MessageSignFinal", hSession);
}

static CK_RV ns_MessageVerifyInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	(void)pMechanism;
	(void)hKey;
	return vnp_unsupported_session("C_MessageVerifyInit", hSession);
}

static CK_RV ns_VerifyMessage(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
	(void)pParameter;
	(void)ulParameterLen;
	(void)pData;
	(void)ulDataLen;
	(void)pSignature;
	(void)ulSignatureLen;
	return vnp_unsupported_session("C_VerifyMessage", hSession);
}

static CK_RV ns_VerifyMessageBegin(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen)
{
	(void)pParameter;
	(void)ulParameterLen;
	return vnp_unsupported_session("C_VerifyMessageBegin", hSession);
}

static CK_RV ns_VerifyMessageNext(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
	(void)pParameter;
	(void)ulParameterLen;
	(void)pData;
	(void)ulDataLen;
	(void)pSignature;
	(void)ulSignatureLen;
	return vnp_unsupported_session("C_VerifyMessageNext", hSession);
}

static CK_RV ns_MessageVerifyFinal(CK_SESSION_HANDLE hSession)
{
	return vnp_unsupported_session("C_MessageVerifyFinal", hSession);
}

/* Legacy functions: PKCS #11 2.40 §5.16 — always CKR_FUNCTION_NOT_PARALLEL. */
static CK_RV legacy_GetFunctionStatus(CK_SESSION_HANDLE hSession)
{
	CK_RV rv = vnp_unsupported_session("C_GetFunctionStatus", hSession);

	return rv == CKR_FUNCTION_NOT_SUPPORTED ? CKR_FUNCTION_NOT_PARALLEL : rv;
}

static CK_RV legacy_CancelFunction(CK_SESSION_HANDLE hSession)
{
	CK_RV rv = vnp_unsupported_session("C_CancelFunction", hSession);

	return rv == CKR_FUNCTION_NOT_SUPPORTED ? CKR_FUNCTION_NOT_PARALLEL : rv;
}

const CK_FUNCTION_LIST vnp_function_list_v2 = {
	.version = { 2, 40 },
	.C_Initialize = vnp_C_Initialize,
	.C_Finalize = vnp_C_Finalize,
	.C_GetInfo = vnp_C_GetInfo_v2,
	.C_GetFunctionList = C_GetFunctionList,
	.C_GetSlotList = vnp_C_GetSlotList,
	.C_GetSlotInfo = vnp_C_GetSlotInfo,
	.C_GetTokenInfo = vnp_C_GetTokenInfo,
	.C_GetMechanismList = vnp_C_GetMechanismList,
	.C_GetMechanismInfo = vnp_C_GetMechanismInfo,
	.C_InitToken = vnp_C_InitToken,
	.C_InitPIN = vnp_C_InitPIN,
	.C_SetPIN = vnp_C_SetPIN,
	.C_OpenSession = vnp_C_OpenSession,
	.C_CloseSession = vnp_C_CloseSession,
	.C_CloseAllSessions = vnp_C_CloseAllSessions,
	.C_GetSessionInfo = vnp_C_GetSessionInfo,
	.C_GetOperationState = ns_GetOperationState,
	.C_SetOperationState = ns_SetOperationState,
	.C_Login = vnp_C_Login,
	.C_Logout = vnp_C_Logout,
	.C_CreateObject = vnp_C_CreateObject,
	.C_CopyObject = vnp_C_CopyObject,
	.C_DestroyObject = vnp_C_DestroyObject,
	.C_GetObjectSize = vnp_C_GetObjectSize,
	.C_GetAttributeValue = vnp_C_GetAttributeValue,
	.C_SetAttributeValue = vnp_C_SetAttributeValue,
	.C_FindObjectsInit = vnp_C_FindObjectsInit,
	.C_FindObjects = vnp_C_FindObjects,
	.C_FindObjectsFinal = vnp_C_FindObjectsFinal,
	.C_EncryptInit = ns_EncryptInit,
	.C_Encrypt = ns_Encrypt,
	.C_EncryptUpdate = ns_EncryptUpdate,
	.C_EncryptFinal = ns_EncryptFinal,
	.C_DecryptInit = ns_DecryptInit,
	.C_Decrypt = ns_Decrypt,
	.C_DecryptUpdate = ns_DecryptUpdate,
	.C_DecryptFinal = ns_DecryptFinal,
	.C_DigestInit = ns_DigestInit,
	.C_Digest = ns_Digest,
	.C_DigestUpdate = ns_DigestUpdate,
	.C_DigestKey = ns_DigestKey,
	.C_DigestFinal = ns_DigestFinal,
	.C_SignInit = vnp_C_SignInit,
	.C_Sign = vnp_C_Sign,
	.C_SignUpdate = vnp_C_SignUpdate,
	.C_SignFinal = vnp_C_SignFinal,
	.C_SignRecoverInit = ns_SignRecoverInit,
	.C_SignRecover = ns_SignRecover,
	.C_VerifyInit = vnp_C_VerifyInit,
	.C_Verify = vnp_C_Verify,
	.C_VerifyUpdate = vnp_C_VerifyUpdate,
	.C_VerifyFinal = vnp_C_VerifyFinal,
	.C_VerifyRecoverInit = ns_VerifyRecoverInit,
	.C_VerifyRecover = ns_VerifyRecover,
	.C_DigestEncryptUpdate = ns_DigestEncryptUpdate,
	.C_DecryptDigestUpdate = ns_DecryptDigestUpdate,
	.C_SignEncryptUpdate = ns_SignEncryptUpdate,
	.C_DecryptVerifyUpdate = ns_DecryptVerifyUpdate,
	.C_GenerateKey = ns_GenerateKey,
	.C_GenerateKeyPair = vnp_C_GenerateKeyPair,
	.C_WrapKey = ns_WrapKey,
	.C_UnwrapKey = ns_UnwrapKey,
	.C_DeriveKey = ns_DeriveKey,
	.C_SeedRandom = vnp_C_SeedRandom,
	.C_GenerateRandom = vnp_C_GenerateRandom,
	.C_GetFunctionStatus = legacy_GetFunctionStatus,
	.C_CancelFunction = legacy_CancelFunction,
	.C_WaitForSlotEvent = vnp_C_WaitForSlotEvent,
};

const CK_FUNCTION_LIST_3_0 vnp_function_list_v3 = {
	.version = { 3, 0 },
	.C_Initialize = vnp_C_Initialize,
	.C_Finalize = vnp_C_Finalize,
	.C_GetInfo = vnp_C_GetInfo_v3,
	.C_GetFunctionList = C_GetFunctionList,
	.C_GetSlotList = vnp_C_GetSlotList,
	.C_GetSlotInfo = vnp_C_GetSlotInfo,
	.C_GetTokenInfo = vnp_C_GetTokenInfo,
	.C_GetMechanismList = vnp_C_GetMechanismList,
	.C_GetMechanismInfo = vnp_C_GetMechanismInfo,
	.C_InitToken = vnp_C_InitToken,
	.C_InitPIN = vnp_C_InitPIN,
	.C_SetPIN = vnp_C_SetPIN,
	.C_OpenSession = vnp_C_OpenSession,
	.C_CloseSession = vnp_C_CloseSession,
	.C_CloseAllSessions = vnp_C_CloseAllSessions,
	.C_GetSessionInfo = vnp_C_GetSessionInfo,
	.C_GetOperationState = ns_GetOperationState,
	.C_SetOperationState = ns_SetOperationState,
	.C_Login = vnp_C_Login,
	.C_Logout = vnp_C_Logout,
	.C_CreateObject = vnp_C_CreateObject,
	.C_CopyObject = vnp_C_CopyObject,
	.C_DestroyObject = vnp_C_DestroyObject,
	.C_GetObjectSize = vnp_C_GetObjectSize,
	.C_GetAttributeValue = vnp_C_GetAttributeValue,
	.C_SetAttributeValue = vnp_C_SetAttributeValue,
	.C_FindObjectsInit = vnp_C_FindObjectsInit,
	.C_FindObjects = vnp_C_FindObjects,
	.C_FindObjectsFinal = vnp_C_FindObjectsFinal,
	.C_EncryptInit = ns_EncryptInit,
	.C_Encrypt = ns_Encrypt,
	.C_EncryptUpdate = ns_EncryptUpdate,
	.C_EncryptFinal = ns_EncryptFinal,
	.C_DecryptInit = ns_DecryptInit,
	.C_Decrypt = ns_Decrypt,
	.C_DecryptUpdate = ns_DecryptUpdate,
	.C_DecryptFinal = ns_DecryptFinal,
	.C_DigestInit = ns_DigestInit,
	.C_Digest = ns_Digest,
	.C_DigestUpdate = ns_DigestUpdate,
	.C_DigestKey = ns_DigestKey,
	.C_DigestFinal = ns_DigestFinal,
	.C_SignInit = vnp_C_SignInit,
	.C_Sign = vnp_C_Sign,
	.C_SignUpdate = vnp_C_SignUpdate,
	.C_SignFinal = vnp_C_SignFinal,
	.C_SignRecoverInit = ns_SignRecoverInit,
	.C_SignRecover = ns_SignRecover,
	.C_VerifyInit = vnp_C_VerifyInit,
	.C_Verify = vnp_C_Verify,
	.C_VerifyUpdate = vnp_C_VerifyUpdate,
	.C_VerifyFinal = vnp_C_VerifyFinal,
	.C_VerifyRecoverInit = ns_VerifyRecoverInit,
	.C_VerifyRecover = ns_VerifyRecover,
	.C_DigestEncryptUpdate = ns_DigestEncryptUpdate,
	.C_DecryptDigestUpdate = ns_DecryptDigestUpdate,
	.C_SignEncryptUpdate = ns_SignEncryptUpdate,
	.C_DecryptVerifyUpdate = ns_DecryptVerifyUpdate,
	.C_GenerateKey = ns_GenerateKey,
	.C_GenerateKeyPair = vnp_C_GenerateKeyPair,
	.C_WrapKey = ns_WrapKey,
	.C_UnwrapKey = ns_UnwrapKey,
	.C_DeriveKey = ns_DeriveKey,
	.C_SeedRandom = vnp_C_SeedRandom,
	.C_GenerateRandom = vnp_C_GenerateRandom,
	.C_GetFunctionStatus = legacy_GetFunctionStatus,
	.C_CancelFunction = legacy_CancelFunction,
	.C_WaitForSlotEvent = vnp_C_WaitForSlotEvent,
	.C_GetInterfaceList = C_GetInterfaceList,
	.C_GetInterface = C_GetInterface,
	.C_LoginUser = vnp_C_LoginUser,
	.C_SessionCancel = vnp_C_SessionCancel,
	.C_MessageEncryptInit = ns_MessageEncryptInit,
	.C_EncryptMessage = ns_EncryptMessage,
	.C_EncryptMessageBegin = ns_EncryptMessageBegin,
	.C_EncryptMessageNext = ns_EncryptMessageNext,
	.C_MessageEncryptFinal = ns_MessageEncryptFinal,
	.C_MessageDecryptInit = ns_MessageDecryptInit,
	.C_DecryptMessage = ns_DecryptMessage,
	.C_DecryptMessageBegin = ns_DecryptMessageBegin,
	.C_DecryptMessageNext = ns_DecryptMessageNext,
	.C_MessageDecryptFinal = ns_MessageDecryptFinal,
	.C_MessageSignInit = ns_MessageSignInit,
	.C_SignMessage = ns_SignMessage,
	.C_SignMessageBegin = ns_SignMessageBegin,
	.C_SignMessageNext = ns_SignMessageNext,
	.C_MessageSignFinal = ns_MessageSignFinal,
	.C_MessageVerifyInit = ns_MessageVerifyInit,
	.C_VerifyMessage = ns_VerifyMessage,
	.C_VerifyMessageBegin = ns_VerifyMessageBegin,
	.C_VerifyMessageNext = ns_VerifyMessageNext,
	.C_MessageVerifyFinal = ns_MessageVerifyFinal,
};

/* Interfaces, in order of preference: C_GetInterface with a NULL name or version returns
 * the first that fits. Flags: none (a forked child must call C_Initialize again). */
static CK_INTERFACE interfaces[] = {
	{ (CK_CHAR *)"PKCS 11", (CK_VOID_PTR)&vnp_function_list_v3, 0 },
	{ (CK_CHAR *)"PKCS 11", (CK_VOID_PTR)&vnp_function_list_v2, 0 },
	{ (CK_CHAR *)VNPKI_INTERFACE_NAME, (CK_VOID_PTR)&vnp_ext_functions, 0 },
	{ (CK_CHAR *)VNPKI_INTERFACE_NAME, (CK_VOID_PTR)&vnp_ext_functions_v10, 0 },
};

/* 2.40 entry point: the 2.40 list. */
VNP_EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList)
{
	if (!ppFunctionList)
		return CKR_ARGUMENTS_BAD;
	*ppFunctionList = (CK_FUNCTION_LIST_PTR)&vnp_function_list_v2;
	return CKR_OK;
}

/* PKCS #11 3.0 §5.4: size query with a NULL list; CKR_BUFFER_TOO_SMALL. Needs no
 * C_Initialize. */
VNP_EXPORT CK_RV C_GetInterfaceList(CK_INTERFACE_PTR pInterfacesList, CK_ULONG_PTR pulCount)
{
	CK_ULONG n = VNP_ARRAY_SIZE(interfaces);
	CK_RV rv = CKR_OK;

	if (!pulCount)
		return CKR_ARGUMENTS_BAD;
	if (pInterfacesList) {
		if (*pulCount < n)
			rv = CKR_BUFFER_TOO_SMALL;
		else
			memcpy(pInterfacesList, interfaces, sizeof(interfaces));
	}
	*pulCount = n;
	return rv;
}

/* The first interface matching name (NULL: any), version (NULL: any) and carrying all of
 * flags. No match (or a NULL ppInterface): CKR_ARGUMENTS_BAD. Needs no C_Initialize. */
VNP_EXPORT CK_RV C_GetInterface(CK_UTF8CHAR_PTR pInterfaceName, CK_VERSION_PTR pVersion,
				CK_INTERFACE_PTR_PTR ppInterface, CK_FLAGS flags)
{
	if (!ppInterface)
		return CKR_ARGUMENTS_BAD;
	for (size_t i = 0; i < VNP_ARRAY_SIZE(interfaces); i++) {
		const CK_VERSION *v = interfaces[i].pFunctionList;

		if (pInterfaceName &&
		    strcmp((const char *)pInterfaceName, (const char *)interfaces[i].pInterfaceName))
			continue;
		if (pVersion && (pVersion->major != v->major || pVersion->minor != v->minor))
			continue;
		if ((flags & interfaces[i].flags) != flags)
			continue;
		*ppInterface = &interfaces[i];
		return CKR_OK;
	}
	return CKR_ARGUMENTS_BAD;
}
